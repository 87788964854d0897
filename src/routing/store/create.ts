import type { Logger } from '../../core/index.js';
import { FileRouteStore } from './file-store.js';
import { MemoryRouteStore } from './memory-store.js';
import { RedisRouteStore } from './redis-store.js';
import type { RouteStore } from './store.js';

export interface CreateRouteStoreOptions {
  /** redis.url of the server config; null = this process only */
  readonly redisUrl: string | null;
  /** state_dir of the server config: without Redis, where routes and statistics persist; null = in memory */
  readonly stateDir?: string | null;
  readonly log: Logger;
  /** seconds a served request waits for its feedback (default 3600) */
  readonly feedbackTtlS?: number;
  readonly keyPrefix?: string;
}

/**
 * The route store the config asks for: Redis when a URL is set (connects, or throws; Redis is
 * the source of truth and state_dir is not used), else the state folder when one is set (opens
 * it, or throws a StateFileError saying what to do), else memory.
 */
export async function createRouteStore(opts: CreateRouteStoreOptions): Promise<RouteStore> {
  if (opts.redisUrl !== null) {
    return RedisRouteStore.connect({ url: opts.redisUrl, log: opts.log, feedbackTtlS: opts.feedbackTtlS, keyPrefix: opts.keyPrefix });
  }
  const dir = opts.stateDir ?? null;
  if (dir !== null) return FileRouteStore.open({ dir, log: opts.log, feedbackTtlS: opts.feedbackTtlS });
  return new MemoryRouteStore({ feedbackTtlS: opts.feedbackTtlS });
}
