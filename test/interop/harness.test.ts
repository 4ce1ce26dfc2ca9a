/** The harness fails, never skips, when Glewlwyd is missing, and says how to install it. */
import { INSTALL_HINT, startGlewlwyd } from './glewlwyd.js';

test('a missing glewlwyd binary fails with the apt-get line to run', async () => {
  process.env.GLEWLWYD_BINARY = '/nonexistent/glewlwyd';
  try {
    await expect(startGlewlwyd()).rejects.toThrow(`needs glewlwyd: run \`${INSTALL_HINT}\``);
  } finally {
    delete process.env.GLEWLWYD_BINARY;
  }
  expect(INSTALL_HINT).toBe('apt-get install -y glewlwyd sqlite3');
});
