import { Redis } from 'ioredis';

/**
 * The Redis client of the feature store. Its options carry the promises of the request path:
 *   enableAutoPipelining   commands issued in one tick go out as one pipeline, and while one
 *                          is in flight the next ones queue into the following pipeline, so
 *                          concurrent requests share round trips
 *   enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false
 *                          while disconnected, commands fail at once (defaults are used) instead
 *                          of waiting for a reconnect
 *   retryStrategy          reconnects forever, at most 1 s apart: lookups resume by themselves
 */
export function createFeatureRedisClient(url: string): Redis {
  return new Redis(url, {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times: number) => Math.min(times * 50, 1000),
    connectTimeout: 2000,
    lazyConnect: false,
  });
}
