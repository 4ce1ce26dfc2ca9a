import base from './jest.config.js';

/** The package test: `npm run test:package` (packs the tarball, installs it into fresh apps). */
export default {
  ...base,
  testMatch: ['<rootDir>/test/pack/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // tsc with skipLibCheck: false takes tens of seconds on a busy machine.
  testTimeout: 180_000,
};
