/**
 * The README's tables are checked against the code, so they cannot drift:
 * the configuration table against OPTION_SPECS (both ways: names, env vars,
 * defaults), the error codes against the ErrorCode union, the npm commands
 * against package.json, and its in-page links against its headings.
 */
import { readFileSync } from 'node:fs';
import { OPTION_SPECS } from '../../src/config/schema.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const README = read('README.md');

/** The rows of the Markdown table whose header row is `header`, as trimmed cells (`\|` unescaped). */
function tableAfter(markdown: string, header: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === header);
  if (start < 0) throw new Error(`README: no table with the header ${header}`);
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

describe('configuration table', () => {
  const rows = tableAfter(README, '| Option | Env var | Default | Meaning |');
  const documented = new Map(rows.map((cells) => [code(cells[0] as string), cells]));

  test('lists each option once', () => {
    expect(rows.length).toBe(documented.size);
  });

  test('documents every option of the schema, with its env var and default', () => {
    for (const spec of OPTION_SPECS) {
      const cells = documented.get(spec.path);
      expect({ option: spec.path, documented: cells !== undefined }).toEqual({ option: spec.path, documented: true });
      const [, env, defaultText, meaning] = cells as string[];
      expect({ option: spec.path, env }).toEqual({ option: spec.path, env: spec.env === undefined ? '—' : `\`${spec.env}\`` });
      expect({ option: spec.path, defaultText }).toEqual({ option: spec.path, defaultText: spec.defaultText });
      expect({ option: spec.path, hasMeaning: (meaning ?? '').length > 0 }).toEqual({ option: spec.path, hasMeaning: true });
    }
  });

  test('documents no option the schema does not know', () => {
    const known = new Set(OPTION_SPECS.map((spec) => spec.path));
    expect([...documented.keys()].filter((name) => !known.has(name))).toEqual([]);
  });
});

describe('error codes table', () => {
  const source = read('src/errors.ts');
  const union = /export type ErrorCode =([^;]+);/.exec(source)?.[1] ?? '';
  const codes = [...union.matchAll(/'(ERR_[A-Z_]+)'/g)].map((m) => m[1] as string);
  const rows = tableAfter(README, '| Code | Status | When |');

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

test('every npm command in the README is a script of package.json', () => {
  const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  const commands = [...README.matchAll(/\bnpm run ([\w:-]+)/g)].map((m) => m[1] as string);
  expect(commands).toEqual(expect.arrayContaining(['demo', 'test:e2e', 'docs']));
  expect(commands.filter((name) => scripts[name] === undefined)).toEqual([]);
  expect(scripts.test).toBeDefined();
});

test('in-page links point at a heading or an anchor of the README', () => {
  // GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens.
  const slug = (heading: string) =>
    heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .trim()
      .replace(/\s/g, '-');
  const targets = new Set([
    ...[...README.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string)),
    ...[...README.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1] as string),
  ]);
  const links = [...README.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] as string);
  expect(links.length).toBeGreaterThan(5);
  expect(links.filter((link) => !targets.has(link))).toEqual([]);
});
