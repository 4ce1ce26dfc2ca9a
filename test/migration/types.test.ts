/**
 * A strict TypeScript app written against express-openid-connect 3.4's typed
 * API (test/migration/typed/app.ts.txt) compiles with only its import changed
 * to 'express-oidc'; and it compiles as it is against express-openid-connect
 * (the control, so the fixture really is written against the old typings).
 * The file is compiled from memory, as if it sat in test/migration/typed/.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = readFileSync(new URL('./typed/app.ts.txt', import.meta.url), 'utf8');
const VIRTUAL = `${ROOT}test/migration/typed/app.ts`;

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  strict: true,
  noUncheckedIndexedAccess: true,
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
  types: ['node'],
  baseUrl: ROOT,
  paths: { 'express-oidc': ['./src/index.ts'] },
};

/** The diagnostics of compiling `source` as the virtual app file, formatted one per line. */
function compile(source: string): string[] {
  const host = ts.createCompilerHost(OPTIONS);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    fileName === VIRTUAL ? ts.createSourceFile(fileName, source, languageVersion) : getSourceFile(fileName, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => fileName === VIRTUAL || fileExists(fileName);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => (fileName === VIRTUAL ? source : readFile(fileName));
  const program = ts.createProgram([VIRTUAL], OPTIONS, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName.replace(ROOT, '')}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

const withOurImport = (source: string) => source.replace("from 'express-openid-connect';", "from 'express-oidc';");

test('the fixture compiles against express-openid-connect itself (the control)', () => {
  expect(compile(FIXTURE)).toEqual([]);
}, 120_000);

test('it compiles against express-oidc with only the import changed (tsc strict)', () => {
  const source = withOurImport(FIXTURE);
  expect(source).not.toBe(FIXTURE);
  expect(compile(source)).toEqual([]);
}, 120_000);

test('the documented stricter types are refused, each on its own line, and nothing else', () => {
  const stricter = readFileSync(new URL('./typed/stricter.ts.txt', import.meta.url), 'utf8');
  expect(compile(stricter)).toEqual([]);
  const lines = stricter.split('\n');
  const expected = lines.flatMap((line, i) => (line.trim().startsWith('// stricter:') ? [i + 2] : []));
  expect(expected.length).toBeGreaterThanOrEqual(6);
  const failing = new Set(compile(withOurImport(stricter)).map((d) => Number(/app\.ts:(\d+)/.exec(d)?.[1])));
  expect([...failing].sort((a, b) => a - b)).toEqual(expected);
}, 120_000);
