/**
 * The Redis route store: routes, canary state, audit, bandit statistics, canary windows
 * and request→arm records shared by every gateway replica.
 *
 * Keys (under `keyPrefix`, default "switchyard:routing:"):
 *   routes               hash  name → record JSON          revs   hash  name → revision
 *   rev                  revision counter (increments on every route change)
 *   audit                list of audit entries, newest first, trimmed
 *   counters:<key>       hash of counters (arms:<route>, counts:<route>, win:<route>:<run>:<epoch>)
 *   req:<id>             a request's credit record (SET … EX ttl)   done:<id>  credited marker
 *   lock:<name>          canary decision lock (SET NX PX)
 * Every route change is published on the channel `<prefix>changes` (payload: the name);
 * besides, the revision counter is polled every `pollMs`, so a replica that missed a
 * message (its subscription reconnecting) still catches up.
 *
 * The command connection runs with auto-pipelining and without an offline queue: while
 * Redis is down, commands fail at once instead of piling up in memory; requests never wait
 * for Redis (the router serves them from its mirror).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../core/index.js';
import { closeRedis, connectRedis, openRedis, redactUrl } from '../../redis/index.js';
import { storeUnavailable } from '../errors.js';
import { CREDIT, UNLOCK, WRITE_ROUTE } from './redis-scripts.js';
import type { AuditEntry, CreditRecord, CreditResult, RouteRecord, RouteStore, RouteWrite, StoreListener } from './store.js';

export interface RedisRouteStoreOptions {
  readonly url: string;
  readonly log: Logger;
  readonly keyPrefix?: string;
  /** seconds a served request waits for its feedback (default 3600) */
  readonly feedbackTtlS?: number;
  /** audit entries kept (default 1000) */
  readonly maxAudit?: number;
  /** how often the revision counter is polled (default 1000 ms) */
  readonly pollMs?: number;
  /** how long connect() waits for Redis (default 5000 ms) */
  readonly connectTimeoutMs?: number;
  /** how long one command may take (default 2000 ms) */
  readonly commandTimeoutMs?: number;
  /** an unknown feedback id is looked up again after this long, once (default 100 ms; see credit()) */
  readonly unknownRetryMs?: number;
}

interface Scripts {
  syWriteRoute(...args: (string | number)[]): Promise<number>;
  syCredit(...args: (string | number)[]): Promise<[string, string]>;
  syUnlock(...args: (string | number)[]): Promise<number>;
}

type ScriptedRedis = Redis & Scripts;

interface StoredRecord {
  spec: RouteRecord['spec'];
  canary: RouteRecord['canary'];
  seed: string | null;
  updatedAt: number;
}

const WARN_EVERY_MS = 10_000;

export class RedisRouteStore implements RouteStore {
  readonly shared = true;
  readonly countersInStore = true;
  private readonly client: ScriptedRedis;
  private readonly sub: Redis;
  private readonly log: Logger;
  private readonly prefix: string;
  private readonly ttlS: number;
  private readonly maxAudit: number;
  private readonly channel: string;
  private listener: StoreListener | null = null;
  private poller: NodeJS.Timeout | null = null;
  /** a full reload failed (e.g. right after a reconnect): the next poll reloads whatever the revision */
  private reloadPending = false;
  private lastRevision: string | null = null;
  private lastWarn = 0;
  private closed = false;
  private readonly unknownRetryMs: number;

  private constructor(client: Redis, sub: Redis, opts: RedisRouteStoreOptions) {
    this.client = client as ScriptedRedis;
    this.sub = sub;
    this.log = opts.log;
    this.prefix = opts.keyPrefix ?? 'switchyard:routing:';
    this.ttlS = opts.feedbackTtlS ?? 3600;
    this.maxAudit = opts.maxAudit ?? 1000;
    this.channel = `${this.prefix}changes`;
    this.unknownRetryMs = opts.unknownRetryMs ?? 100;
    this.client.defineCommand('syWriteRoute', { lua: WRITE_ROUTE });
    this.client.defineCommand('syCredit', { numberOfKeys: 2, lua: CREDIT });
    this.client.defineCommand('syUnlock', { numberOfKeys: 1, lua: UNLOCK });
    const pollMs = opts.pollMs ?? 1000;
    this.poller = setInterval(() => void this.poll(), pollMs);
    this.poller.unref();
  }

  /** Connects (a command connection and a subscriber); throws when Redis cannot be reached in time. */
  static async connect(opts: RedisRouteStoreOptions): Promise<RedisRouteStore> {
    const timeouts = { commandTimeout: opts.commandTimeoutMs ?? 2000 };
    const client = openRedis(opts.url, 'routes', timeouts);
    const sub = openRedis(opts.url, 'route-events', timeouts);
    try {
      await connectRedis([client, sub], opts.connectTimeoutMs ?? 5000);
    } catch (e) {
      throw new Error(`cannot connect to the route store at ${redactUrl(opts.url)}: ${(e as Error).message}`, { cause: e });
    }
    const store = new RedisRouteStore(client, sub, opts);
    await sub.subscribe(store.channel);
    sub.on('message', (channel: string, name: string) => {
      if (channel === store.channel) void store.listener?.changed(name);
    });
    // after a reconnect, messages may have been missed: reload everything
    // (the command connection may not be back yet: then the next poll reloads)
    sub.on('ready', () => void store.reloadAfterReconnect());
    return store;
  }

  private async reloadAfterReconnect(): Promise<void> {
    if (this.listener !== null && !(await this.listener.changed(null))) this.reloadPending = true;
  }

  private key(suffix: string): string {
    return this.prefix + suffix;
  }

  async load(): Promise<RouteRecord[]> {
    try {
      const res = await this.client.multi().hgetall(this.key('routes')).hgetall(this.key('revs')).get(this.key('rev')).exec();
      if (res === null) throw new Error('transaction aborted');
      for (const [err] of res) if (err) throw err;
      const routes = res[0][1] as Record<string, string>;
      const revs = res[1][1] as Record<string, string>;
      this.lastRevision = res[2][1] as string | null;
      return Object.entries(routes).map(([name, json]) => parseRecord(name, json, Number(revs[name] ?? 0)));
    } catch (e) {
      throw storeUnavailable('loading the routes', e);
    }
  }

  async wiped(): Promise<boolean> {
    try {
      return (await this.client.exists(this.key('rev'))) === 0;
    } catch (e) {
      throw storeUnavailable('checking the route store', e);
    }
  }

  async loadOne(name: string): Promise<RouteRecord | null> {
    try {
      const [json, rev] = await Promise.all([this.client.hget(this.key('routes'), name), this.client.hget(this.key('revs'), name)]);
      return json === null ? null : parseRecord(name, json, Number(rev ?? 0));
    } catch (e) {
      throw storeUnavailable(`loading route "${name}"`, e);
    }
  }

  async write(change: RouteWrite): Promise<number | null> {
    const record: StoredRecord | null =
      change.record === null ? null : { spec: change.record.spec, canary: change.record.canary, seed: change.record.seed, updatedAt: change.record.updatedAt };
    const keys = [this.key('routes'), this.key('revs'), this.key('rev'), this.key('audit'), ...change.dropCounters.map((k) => this.key(`counters:${k}`))];
    try {
      const rev = await this.client.syWriteRoute(
        keys.length,
        ...keys,
        change.name,
        change.expectedRevision,
        record === null ? '' : JSON.stringify(record),
        change.audit === null ? '' : JSON.stringify(change.audit),
        this.maxAudit,
        this.channel,
      );
      return rev < 0 ? null : rev;
    } catch (e) {
      throw storeUnavailable(`changing route "${change.name}"`, e);
    }
  }

  async audit(limit: number): Promise<AuditEntry[]> {
    if (limit <= 0) return [];
    try {
      const lines = await this.client.lrange(this.key('audit'), 0, limit - 1);
      return lines.map((l) => JSON.parse(l) as AuditEntry);
    } catch (e) {
      throw storeUnavailable('reading the audit log', e);
    }
  }

  remember(requestId: string, record: CreditRecord): void {
    this.client.set(this.key(`req:${requestId}`), encodeCredit(record), 'EX', this.ttlS).catch((e: unknown) => this.warn('could not remember a request for its feedback', e));
  }

  forget(requestId: string): void {
    this.client.del(this.key(`req:${requestId}`)).catch((e: unknown) => this.warn('could not forget a failed request', e));
  }

  /**
   * Credits once (the CREDIT script). The serving replica writes a request's record without
   * waiting for it (remember() is fire and forget, so that no answer waits for Redis): a reward
   * sent to another replica right after the answer may get here before the record does (seen
   * in `npm run test:cluster`: ~0.1% of rewards sent within ms of their answers, after the
   * record's SET was no longer auto-pipelined). So an unknown id is looked up once more after
   * `unknownRetryMs`; a truly unknown id answers that much later.
   */
  async credit(requestId: string, reward: number): Promise<CreditResult> {
    const first = await this.creditOnce(requestId, reward);
    if (first.outcome !== 'unknown' || this.unknownRetryMs <= 0) return first;
    await new Promise((r) => setTimeout(r, this.unknownRetryMs));
    return this.creditOnce(requestId, reward);
  }

  private async creditOnce(requestId: string, reward: number): Promise<CreditResult> {
    let out: [string, string];
    try {
      out = await this.client.syCredit(this.key(`req:${requestId}`), this.key(`done:${requestId}`), String(reward), String(reward * reward), this.ttlS, this.key('counters:'));
    } catch (e) {
      throw storeUnavailable('crediting feedback', e);
    }
    const [outcome, payload] = out;
    switch (outcome) {
      case 'credited':
        return { outcome, record: decodeCredit(payload) };
      case 'invalid':
        return { outcome, record: decodeCredit(payload) };
      case 'duplicate':
        return { outcome, route: payload };
      default:
        return { outcome: 'unknown' };
    }
  }

  async syncCounters(key: string, deltas: readonly [string, number][], ttlS: number | null): Promise<Record<string, string>> {
    const hash = this.key(`counters:${key}`);
    const m = this.client.multi();
    for (const [field, delta] of deltas) m.hincrbyfloat(hash, field, delta);
    if (ttlS !== null) m.expire(hash, ttlS);
    m.hgetall(hash);
    const res = await m.exec();
    if (res === null) throw new Error('transaction aborted');
    for (const [err] of res) if (err) throw err;
    return res[res.length - 1][1] as Record<string, string>;
  }

  async tryLock(name: string, ttlMs: number): Promise<string | null> {
    const token = randomUUID();
    const ok = await this.client.set(this.key(`lock:${name}`), token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : null;
  }

  async unlock(name: string, token: string): Promise<void> {
    await this.client.syUnlock(this.key(`lock:${name}`), token);
  }

  watch(listener: StoreListener): void {
    this.listener = listener;
  }

  private async poll(): Promise<void> {
    if (this.closed || this.listener === null || this.client.status !== 'ready') return;
    try {
      const rev = await this.client.get(this.key('rev'));
      // taken as seen only once the reload succeeded: a reload that failed (the command
      // connection still reconnecting after a Redis restart) is tried again on the next poll,
      // or an emptied store would never be noticed and its routes never written back
      if (rev === this.lastRevision && !this.reloadPending) return;
      this.reloadPending = false;
      if (await this.listener.changed(null)) this.lastRevision = rev;
      else this.reloadPending = true;
    } catch {
      // Redis is away; the next poll tries again
    }
  }

  /** Logs a failed background write, at most once per 10 s. */
  private warn(msg: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarn < WARN_EVERY_MS) return;
    this.lastWarn = now;
    this.log.warn(`route store: ${msg} (Redis unavailable?)`, { err });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.poller !== null) clearInterval(this.poller);
    await Promise.all([closeRedis(this.client), closeRedis(this.sub)]);
  }
}


function parseRecord(name: string, json: string, revision: number): RouteRecord {
  const r = JSON.parse(json) as StoredRecord;
  return { name, spec: r.spec, canary: r.canary, seed: r.seed, updatedAt: r.updatedAt, revision };
}

function encodeCredit(r: CreditRecord): string {
  return `${r.reward}\n${r.hash}\n${r.prefix}\n${r.route}`;
}

function decodeCredit(text: string): CreditRecord {
  const [reward, hash, prefix, route] = text.split('\n');
  return { reward: reward === 'b' ? 'b' : 'g', hash, prefix, route };
}
