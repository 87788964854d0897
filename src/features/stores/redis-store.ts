import type { Redis } from 'ioredis';
import { closeRedis } from '../../redis/index.js';
import type { Logger } from '../../core/index.js';
import type { FeatureRow } from '../row.js';
import type { FeatureView } from '../view.js';
import type { FeatureStore } from './store.js';

/** Entity reads that may wait for Redis at once; past it reads fail at once (a hung server must not grow memory without bound). */
const MAX_PENDING_READS = 100_000;

/**
 * Reads rows from Redis: one HMGET per entity, all issued synchronously so that the
 * client's auto-pipelining sends a request's reads (and those of concurrent requests) in
 * one round trip. Connection trouble is logged once per outage, not per failed read.
 */
export class RedisFeatureStore implements FeatureStore {
  readonly kind = 'redis' as const;
  readonly remote = true;
  readonly client: Redis;
  private readonly log: Logger;
  private pending = 0;
  private down = false;

  constructor(client: Redis, log: Logger) {
    this.client = client;
    this.log = log;
    client.on('error', (e: Error) => {
      if (this.down) return;
      this.down = true;
      log.warn('feature store: Redis unreachable; lookups use defaults until it is back', { error: e.message });
    });
    client.on('ready', () => {
      if (!this.down) return;
      this.down = false;
      log.info('feature store: Redis reachable again');
    });
  }

  /** Resolves when the client is ready, or after `ms` (lookups before then use defaults). */
  waitReady(ms: number): Promise<boolean> {
    if (this.client.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.client.once('ready', onReady);
    });
  }

  read(view: FeatureView, ids: readonly string[]): Promise<FeatureRow[]> {
    if (this.pending >= MAX_PENDING_READS) return Promise.reject(new Error(`${this.pending} feature reads already wait for Redis`));
    const codec = view.codec;
    const client = this.client;
    const n = ids.length;
    const reads = new Array<Promise<(string | Buffer | null)[]>>(n);
    if (codec.binary) {
      for (let i = 0; i < n; i++) reads[i] = client.hmgetBuffer(codec.key(ids[i]), ...codec.hashFields);
    } else {
      const fields = codec.hashFields as readonly string[];
      for (let i = 0; i < n; i++) reads[i] = client.hmget(codec.key(ids[i]), ...fields);
    }
    this.pending += n;
    return Promise.all(reads).then(
      (answers) => {
        this.pending -= n;
        const now = Date.now();
        const rows = new Array<FeatureRow>(n);
        for (let i = 0; i < n; i++) rows[i] = codec.decode(answers[i], now);
        return rows;
      },
      (e: unknown) => {
        this.pending -= n;
        throw e;
      },
    );
  }

  close(): Promise<void> {
    return closeRedis(this.client);
  }
}
