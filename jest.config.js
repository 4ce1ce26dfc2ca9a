/** Jest runs the TypeScript sources as native ES modules (see README, Contributing). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
    }],
  },
  // test/migration/apps import the package by its name, as apps moving over do.
  moduleNameMapper: { '^express-oidc$': '<rootDir>/src/index.ts', '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The browser test, the Glewlwyd suite and the package test run on their own:
  // npm run test:e2e, npm run test:interop, npm run test:package.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/', '<rootDir>/test/interop/', '<rootDir>/test/pack/'],
  testTimeout: 30_000,
  // A suite whose setup outlived its timeout can still start servers after its teardown ran;
  // the run must end when the tests have, not hold CI until its time limit.
  forceExit: true,
};
