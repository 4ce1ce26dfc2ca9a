/**
 * The docs' tables are checked against the code, so they cannot drift (the
 * configuration table is generated and checked by options.test.ts): the
 * error codes (docs/errors.md) against the ErrorCode union, the npm commands of the README and every guide against
 * package.json, and every link between them against the files and headings.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const README = read('README.md');
const GUIDES = readdirSync(new URL('../../docs/', import.meta.url)).filter((name) => name.endsWith('.md'));
const ERRORS = read('docs/errors.md');
/** The README and every guide, by path from the project root. */
const PAGES = new Map<string, string>([['README.md', README], ...GUIDES.map((name): [string, string] => [`docs/${name}`, read(`docs/${name}`)])]);

/** The rows of the Markdown table whose header row is `header`, as trimmed cells (`\|` unescaped). */
function tableAfter(markdown: string, header: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === header);
  if (start < 0) throw new Error(`docs: no table with the header ${header}`);
  const rows: string[][] = [];
  // Skip the header and its |---| line; the table ends at the first line that is not a row.
  for (const line of lines.slice(start + 2)) {
    if (!line.trim().startsWith('|')) break;
    const cells = line
      .trim()
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replace(/\\\|/g, '|'));
    rows.push(cells);
  }
  return rows;
}

/** `name` in backticks, as the first cells are written. */
function code(cell: string): string {
  const match = /^`([^`]+)`$/.exec(cell);
  if (!match) throw new Error(`README: expected a single \`code\` cell, got ${cell}`);
  return match[1] as string;
}

describe('error codes table', () => {
  const source = read('src/errors.ts');
  const union = /export type ErrorCode =([^;]+);/.exec(source)?.[1] ?? '';
  const codes = [...union.matchAll(/'(ERR_[A-Z_]+)'/g)].map((m) => m[1] as string);
  const rows = tableAfter(ERRORS, '| Code | Status | When |');

  test('lists exactly the ErrorCode union', () => {
    expect(codes.length).toBeGreaterThan(10);
    expect(rows.map((cells) => code(cells[0] as string)).sort()).toEqual([...codes].sort());
  });

  test('gives each code its HTTP status and a meaning', () => {
    for (const [name, status, when] of rows) {
      expect({ name, status: /^\d{3}(, \d{3})*$/.test(status ?? '') }).toEqual({ name, status: true });
      expect({ name, when: (when ?? '').length > 0 }).toEqual({ name, when: true });
    }
  });
});

test('every npm command in the README and the guides is a script of package.json', () => {
  const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  const commands = [...PAGES.values()].flatMap((page) => [...page.matchAll(/\bnpm run ([\w:-]+)/g)].map((m) => m[1] as string));
  expect(commands).toEqual(expect.arrayContaining(['demo', 'test:e2e', 'docs']));
  expect(commands.filter((name) => scripts[name] === undefined)).toEqual([]);
  expect(scripts.test).toBeDefined();
});

test('the README links every guide', () => {
  const linked = new Set([...README.matchAll(/\]\(docs\/([\w-]+\.md)\)/g)].map((m) => m[1] as string));
  expect(GUIDES.filter((name) => !linked.has(name))).toEqual([]);
});

test('the README stays short enough to read in five minutes', () => {
  expect(README.split('\n').length).toBeLessThan(250);
});

/** GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const slug = (heading: string) =>
    heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .trim()
      .replace(/\s/g, '-');
  return new Set([
    ...[...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string)),
    ...[...markdown.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1] as string),
  ]);
}

test('every link between the README and the guides points at a file and heading that exist', () => {
  const broken: string[] = [];
  let count = 0;
  for (const [path, markdown] of PAGES) {
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
    for (const [, target] of markdown.matchAll(/\]\(((?:[\w./-]+\.md)?(?:#[\w-]+)?)\)/g)) {
      if (target === undefined || target === '') continue;
      count += 1;
      const [file, anchor] = target.split('#') as [string, string | undefined];
      const targetPath = file === '' ? path : new URL(file, `file:///${dir}`).pathname.slice(1);
      const page = PAGES.get(targetPath) ?? (existsSync(new URL(`../../${targetPath}`, import.meta.url)) ? read(targetPath) : undefined);
      if (page === undefined || (anchor !== undefined && !anchorsOf(page).has(anchor))) broken.push(`${path} -> ${target}`);
    }
  }
  expect(count).toBeGreaterThan(20);
  expect(broken).toEqual([]);
});
