import base from './jest.config.js';

/** The Glewlwyd interoperability suite: `npm run test:interop` (needs `glewlwyd` and `sqlite3`). */
export default {
  ...base,
  testMatch: ['<rootDir>/test/interop/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 30_000,
  // Each file runs its own Glewlwyd and mostly waits (token lifetimes, the OP's threads): run them side by side.
  maxWorkers: 3,
};
