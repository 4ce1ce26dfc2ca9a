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
  // The browser test (npm run test:e2e) and the Glewlwyd suite (npm run test:interop) run on their own.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/', '<rootDir>/test/interop/'],
  testTimeout: 30_000,
};
