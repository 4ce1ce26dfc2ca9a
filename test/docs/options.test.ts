/**
 * One source of truth for the options: OPTION_SPECS (src/config/schema.ts).
 * The TSDoc comments of `AuthOptions` and the option types it uses
 * (src/config/types.ts) give every option's meaning, its `@defaultValue`
 * (the spec's `defaultText`) and its unit (the spec's `unit`), and the
 * configuration table is generated from the specs (scripts/options-table.js).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { OPTION_SPECS } from '../../src/config/schema.js';
// @ts-expect-error -- a plain JavaScript script, without types
import { END, START, renderOptionsTable, replaceBetweenMarkers } from '../../scripts/options-table.js';

const TYPES = fileURLToPath(new URL('../../src/config/types.ts', import.meta.url));

const program = ts.createProgram([TYPES], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true });
const checker = program.getTypeChecker();
const source = program.getSourceFile(TYPES) as ts.SourceFile;
const authOptions = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'AuthOptions');
if (authOptions === undefined) throw new Error('src/config/types.ts: no interface AuthOptions');

interface Doc {
  text: string;
  defaultValue: string | undefined;
}

function docOf(symbol: ts.Symbol): Doc {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const tag = symbol.getJsDocTags(checker).find((t) => t.name === 'defaultValue');
  return { text, defaultValue: tag === undefined ? undefined : ts.displayPartsToString(tag.text).trim() };
}

/** The object types inside a property's type (`boolean | DPoPOptions` gives DPoPOptions). */
function objectParts(type: ts.Type): ts.Type[] {
  const parts = type.isUnion() ? type.types : [type];
  return parts.filter((part) => {
    if (!(part.flags & ts.TypeFlags.Object) || part.getCallSignatures().length > 0) return false;
    // Only the option types of this file: not CryptoKey, Store, RefreshLock, ...
    return (part.getSymbol()?.declarations ?? []).some((d) => d.getSourceFile() === source);
  });
}

function typeOfProperty(symbol: ts.Symbol): ts.Type {
  return checker.getNonNullableType(checker.getTypeOfSymbol(symbol));
}

/** Every member of AuthOptions and of the option types it uses, by dotted path. */
function members(): Map<string, Doc> {
  const found = new Map<string, Doc>();
  const walk = (type: ts.Type, prefix: string, seen: Set<ts.Type>) => {
    for (const property of checker.getPropertiesOfType(type)) {
      const path = prefix ? `${prefix}.${property.name}` : property.name;
      found.set(path, docOf(property));
      for (const part of objectParts(typeOfProperty(property))) {
        if (!seen.has(part)) walk(part, path, new Set([...seen, part]));
      }
    }
  };
  const root = checker.getTypeAtLocation((authOptions as ts.InterfaceDeclaration).name);
  walk(root, '', new Set([root]));
  return found;
}

const documented = members();

test('every member of AuthOptions and of its option types has a doc comment', () => {
  expect(documented.size).toBeGreaterThan(60);
  const bare = [...documented].filter(([, doc]) => doc.text.length === 0).map(([path]) => path);
  expect(bare).toEqual([]);
});

test('every option of the schema is a documented member, with the same default', () => {
  const missing = OPTION_SPECS.filter((spec) => !documented.has(spec.path)).map((spec) => spec.path);
  const differing = OPTION_SPECS.filter((spec) => documented.has(spec.path) && documented.get(spec.path)?.defaultValue !== spec.defaultText).map(
    (spec) => ({ option: spec.path, tsdoc: documented.get(spec.path)?.defaultValue, spec: spec.defaultText }),
  );
  expect(OPTION_SPECS.length).toBeGreaterThan(60);
  expect(missing).toEqual([]);
  expect(differing).toEqual([]);
});

test('the doc comment of a number option names its unit, and only that one', () => {
  const seconds = /\bseconds\b/i;
  const milliseconds = /\bmilliseconds\b/i;
  const withUnit = OPTION_SPECS.filter((spec) => spec.unit !== undefined);
  expect(withUnit.length).toBeGreaterThanOrEqual(8);
  for (const spec of withUnit) {
    const text = documented.get(spec.path)?.text ?? '';
    const named = { seconds: seconds.test(text), milliseconds: milliseconds.test(text) };
    expect({ option: spec.path, named }).toEqual({ option: spec.path, named: { seconds: spec.unit === 'seconds', milliseconds: spec.unit === 'milliseconds' } });
  }
  // And no option speaks of a unit the schema does not give it.
  for (const spec of OPTION_SPECS.filter((s) => s.unit === undefined)) {
    const text = documented.get(spec.path)?.text ?? '';
    expect({ option: spec.path, unit: seconds.test(text) || milliseconds.test(text) }).toEqual({ option: spec.path, unit: false });
  }
});

describe('the generated configuration table', () => {
  const table: string = renderOptionsTable(OPTION_SPECS);

  test('has one row per option, with its env var, default, unit and meaning', () => {
    const rows = table.split('\n').slice(2);
    expect(rows).toHaveLength(OPTION_SPECS.length);
    OPTION_SPECS.forEach((spec, i) => {
      const cells = (rows[i] as string).slice(2, -2).split(/ (?<!\\)\| /);
      expect(cells).toEqual([
        `\`${spec.path}\``,
        spec.env === undefined ? '—' : `\`${spec.env}\``,
        spec.defaultText.replace(/\|/g, '\\|'),
        spec.unit ?? '—',
        spec.describe.replace(/\|/g, '\\|'),
      ]);
    });
  });

  test('is written between the markers, leaving the rest of the file alone', () => {
    const before = `# Configuration\n\nIntro.\n\n${START}\nold table\n${END}\n\nMore text.\n`;
    const after: string = replaceBetweenMarkers(before, table);
    expect(after).toBe(`# Configuration\n\nIntro.\n\n${START}\n${table}\n${END}\n\nMore text.\n`);
    expect(replaceBetweenMarkers(after, table)).toBe(after);
    expect(() => replaceBetweenMarkers('# no markers\n', table, 'x.md')).toThrow(/x\.md has no <!-- options:start -->/);
  });

  test('docs/configuration.md carries the current table (until it exists, the README carries the table)', () => {
    const file = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
    if (existsSync(file)) {
      const markdown = readFileSync(file, 'utf8');
      expect(markdown).toContain(START);
      expect(replaceBetweenMarkers(markdown, table)).toBe(markdown);
    } else {
      // Checked row by row by test/docs/readme.test.ts.
      expect(readFileSync(new URL('../../README.md', import.meta.url), 'utf8')).toContain('| Option | Env var | Default | Meaning |');
    }
  });
});
