/**
 * Mutation testing of the security-critical modules (see docs/mutation-testing.md).
 *
 * One Stryker run mutates one module against the tests that protect it, named in MODULES:
 *   MUTATION_MODULE=src/routes/return-to.ts npx stryker run
 * `npm run test:mutation` runs every module in turn and compares the scores with
 * mutation-thresholds.json.
 */

/** Each security-critical module and the test files that must kill its mutants. */
export const MODULES = {
  'src/client/id-token.ts': ['test/client/id-token.test.ts'],
  'src/client/logout-token.ts': ['test/client/logout-token.test.ts', 'test/client/logout-token-rules.test.ts'],
  'src/routes/return-to.ts': ['test/routes/return-to.test.ts', 'test/routes/return-to-boundaries.test.ts'],
  'src/transaction/cookies.ts': ['test/transaction/transaction.test.ts', 'test/transaction/cookies.test.ts'],
  'src/transaction/index.ts': ['test/transaction/transaction.test.ts', 'test/transaction/cookies.test.ts'],
  // callback-checks.test.ts (a sign-in per test) protects it too, but is too slow to run per mutant.
  'src/routes/callback.ts': ['test/routes/callback.test.ts', 'test/integration/callback-issuer.test.ts'],
  'src/session/guarded-store.ts': ['test/refresh/no-roll-back.test.ts', 'test/session/guarded-store-races.test.ts'],
  'src/refresh/lock.ts': ['test/refresh/lock.test.ts', 'test/refresh/lock-wait.test.ts', 'test/refresh/lock-keeper.test.ts'],
  'src/refresh/merge.ts': ['test/refresh/merge.test.ts'],
};

const target = process.env.MUTATION_MODULE ?? 'src/routes/return-to.ts';
const tests = MODULES[target];
if (tests === undefined) {
  throw new Error(`MUTATION_MODULE=${target} is not a module of stryker.config.mjs (one of: ${Object.keys(MODULES).join(', ')})`);
}
const name = target.replace(/^src\//, '').replace(/\.ts$/, '').replaceAll('/', '-');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  mutate: [target],
  testRunner: 'jest',
  // Jest runs the sources as native ES modules, as `npm run test:unit` does.
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  jest: {
    configFile: 'jest.config.js',
    config: { testMatch: tests.map((file) => `<rootDir>/${file}`) },
    enableFindRelatedTests: false,
  },
  // Each mutant runs only the tests that reached it.
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  // Mutants live in src: type-checking src alone is enough, and much faster than with the tests.
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // Two cores are shared: one test process.
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
  timeoutMS: 10_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  // Each run makes (and removes) its own sandbox-* folder in it, so two modules can run side by side.
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['dist', 'coverage', 'docs/api', 'reports', 'test-artifacts', 'bench-profiles'],
  thresholds: { high: 95, low: 90, break: null },
};
