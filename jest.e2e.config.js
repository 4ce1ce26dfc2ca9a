import base from './jest.config.js';

/** The browser test: `npm run test:e2e` (builds first; the demo imports the package from dist/). */
export default {
  ...base,
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 60_000,
};
