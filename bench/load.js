/** One autocannon run against one app process, with the server CPU it cost. */
import autocannon from 'autocannon';

/**
 * Loads `url` for `duration` seconds over `connections` keep-alive
 * connections and reads the app process's CPU time before and after.
 * Throws when any response was not 2xx or any request failed: a session that
 * stopped working would otherwise show up as a fast redirect.
 */
export async function loadRun(child, { url, cookie, duration, connections }) {
  const cpuBefore = await child.call('cpu');
  const result = await autocannon({ url, connections, duration, headers: cookie === undefined ? {} : { cookie } });
  const cpuAfter = await child.call('cpu');
  const requests = result.requests.total;
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || requests === 0) {
    throw new Error(`${child.name}: ${requests} requests, ${result.non2xx} not 2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return {
    requestsPerSecond: requests / result.duration,
    cpuPerRequest: (cpuAfter - cpuBefore) / requests,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
