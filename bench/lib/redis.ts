/**
 * Redis for the features cases: a real redis-server (the same starter the tests use), the
 * example customers written into it by the gateway's own loader, and its command counts.
 */
import { Redis } from 'ioredis';

export { startRedis, type TestRedis as RunningRedis } from '../../test/helpers/redis.js';

/**
 * Feature reads the server has processed (HMGET calls, from INFO commandstats). A request's
 * reads leave in one pipelined round trip, so per request this is also an upper bound on its
 * round trips; other commands (the label join's prediction records, route state) are left out.
 */
export async function redisFeatureReads(url: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const text = await client.info('commandstats');
    let calls = 0;
    for (const line of text.split('\n')) {
      const m = /^cmdstat_([a-z|]+):calls=(\d+)/.exec(line.trim());
      if (m !== null && m[1] === 'hmget') calls += Number(m[2]);
    }
    return calls;
  } finally {
    client.disconnect();
  }
}
