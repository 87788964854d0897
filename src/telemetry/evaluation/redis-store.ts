import type { Redis } from 'ioredis';
import { closeRedis } from '../../redis/index.js';
import { Prediction } from './prediction.js';
import type { PredictionStore } from './store.js';

export interface RedisPredictionStoreOptions {
  readonly client: Redis;
  /** true: the store created the client and quits it on close */
  readonly ownsClient: boolean;
  readonly keyPrefix: string;
  readonly ttlS: number;
  /** predictions kept over every replica together; beyond it the oldest are forgotten */
  readonly maxPredictions: number;
  /** called when remembering a prediction failed (the caller counts it) */
  readonly onError: (err: unknown) => void;
}

/**
 * Remembers one prediction and keeps the store bounded, in one step on the server:
 * KEYS[1] the index (a sorted set of ids by time); ARGV: prefix, id, json, ttl s, max. Ids beyond `max` (the oldest first) and ids older than the TTL leave the index, and
 * the keys of those beyond `max` are deleted (the others expire by themselves).
 */
const REMEMBER = `
local prefix, id, ttl, max = ARGV[1], ARGV[2], tonumber(ARGV[4]), tonumber(ARGV[5])
-- Redis's clock, in µs, strictly after the newest entry: replicas' clocks may disagree, and
-- ids remembered in the same µs still leave in the order they came
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] ~= nil and tonumber(top[2]) >= now then now = tonumber(top[2]) + 1 end
redis.call('DEL', prefix .. id)
redis.call('HSET', prefix .. id, 'p', ARGV[3])
redis.call('EXPIRE', prefix .. id, ttl)
redis.call('ZADD', KEYS[1], now, id)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl * 1000000)
local over = redis.call('ZCARD', KEYS[1]) - max
if over > 0 then
  local old = redis.call('ZPOPMIN', KEYS[1], over)
  for i = 1, #old, 2 do redis.call('DEL', prefix .. old[i]) end
end
redis.call('EXPIRE', KEYS[1], ttl)
return over
`;

/** Marks a remembered prediction labelled: 1 the first time, 0 after, or when there is none. KEYS[1] its hash. */
const MARK_LABELLED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'l', '1')
`;

interface Scripts {
  syRememberPrediction(...args: (string | number)[]): Promise<number>;
  syMarkLabelled(key: string): Promise<number>;
}

/**
 * Predictions in Redis, shared by every replica: `<prefix><id>` is a hash whose field `p`
 * holds the prediction's JSON and whose field `l` marks it labelled; it expires after ttl_s.
 * (The mark was a key of its own, `<prefix><id>:labelled`, which was also the prediction key
 * of the id "<id>:labelled": a client's id could label, or hide, another's prediction.)
 * `<prefix without its last ':'>#index` orders the ids by time so that at most max_predictions are kept over all
 * replicas (at 1k req/s a day of unbounded predictions was ~19 GB of Redis).
 */
export class RedisPredictionStore implements PredictionStore {
  private readonly client: Redis & Scripts;
  private readonly max: number;
  private readonly index: string;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly onError: (err: unknown) => void;

  constructor(opts: RedisPredictionStoreOptions) {
    this.client = opts.client as Redis & Scripts;
    this.client.defineCommand('syRememberPrediction', { numberOfKeys: 1, lua: REMEMBER });
    this.client.defineCommand('syMarkLabelled', { numberOfKeys: 1, lua: MARK_LABELLED });
    this.max = opts.maxPredictions;
    // outside the ids' key space: every prediction key starts with the whole prefix
    this.index = `${opts.keyPrefix.endsWith(':') ? opts.keyPrefix.slice(0, -1) : opts.keyPrefix}#index`;
    this.ownsClient = opts.ownsClient;
    this.prefix = opts.keyPrefix;
    this.ttl = opts.ttlS;
    this.onError = opts.onError;
  }

  remember(id: string, prediction: Prediction): void {
    this.client.syRememberPrediction(this.index, this.prefix, id, JSON.stringify(prediction), this.ttl, this.max).catch(this.onError);
  }

  async get(id: string): Promise<Prediction | null> {
    const text = await this.client.hget(this.prefix + id, 'p');
    return text === null ? null : Prediction.parse(text);
  }

  async markLabelled(id: string): Promise<boolean> {
    return (await this.client.syMarkLabelled(this.prefix + id)) === 1;
  }

  async close(): Promise<void> {
    if (this.ownsClient) await closeRedis(this.client);
  }
}
