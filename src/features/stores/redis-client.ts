import type { Redis } from 'ioredis';
import { openRedis } from '../../redis/index.js';

/**
 * The Redis client of the feature store (role `features` in src/redis/connections.ts: commands
 * of concurrent requests share round trips; while disconnected they fail at once and the
 * defaults are used; it reconnects by itself).
 */
export function createFeatureRedisClient(url: string): Redis {
  return openRedis(url, 'features');
}
