import type { Logger } from '../../core/index.js';
import { MemoryRouteStore } from './memory-store.js';
import { RedisRouteStore } from './redis-store.js';
import type { RouteStore } from './store.js';

export interface CreateRouteStoreOptions {
  /** redis.url of the server config; null = in memory */
  readonly redisUrl: string | null;
  readonly log: Logger;
  /** seconds a served request waits for its feedback (default 3600) */
  readonly feedbackTtlS?: number;
  readonly keyPrefix?: string;
}

/** The route store the config asks for: Redis when a URL is set (connects, or throws), else memory. */
export async function createRouteStore(opts: CreateRouteStoreOptions): Promise<RouteStore> {
  if (opts.redisUrl === null) return new MemoryRouteStore({ feedbackTtlS: opts.feedbackTtlS });
  return RedisRouteStore.connect({ url: opts.redisUrl, log: opts.log, feedbackTtlS: opts.feedbackTtlS, keyPrefix: opts.keyPrefix });
}
