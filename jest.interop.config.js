import base from './jest.config.js';

/** The Glewlwyd interoperability suite: `npm run test:interop` (needs `glewlwyd` and `sqlite3`). */
export default {
  ...base,
  testMatch: ['<rootDir>/test/interop/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 30_000,
};
