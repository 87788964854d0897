import type { Redis } from 'ioredis';
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
redis.call('SET', prefix .. id, ARGV[3], 'EX', ttl)
redis.call('ZADD', KEYS[1], now, id)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl * 1000000)
local over = redis.call('ZCARD', KEYS[1]) - max
if over > 0 then
  local old = redis.call('ZPOPMIN', KEYS[1], over)
  for i = 1, #old, 2 do redis.call('DEL', prefix .. old[i], prefix .. old[i] .. ':labelled') end
end
redis.call('EXPIRE', KEYS[1], ttl)
return over
`;

interface Scripts {
  syRememberPrediction(...args: (string | number)[]): Promise<number>;
}

/**
 * Predictions in Redis, shared by every replica: `<prefix><id>` holds the prediction's
 * JSON, `<prefix><id>:labelled` marks a labelled one; both expire after ttl_s (SET … EX).
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
    const text = await this.client.get(this.prefix + id);
    return text === null ? null : Prediction.parse(text);
  }

  async markLabelled(id: string): Promise<boolean> {
    return (await this.client.set(`${this.prefix}${id}:labelled`, '1', 'EX', this.ttl, 'NX')) === 'OK';
  }

  async close(): Promise<void> {
    if (!this.ownsClient) return;
    // quit() waits for the reply to what is queued; a client that is not connected would wait for a reconnect
    if (this.client.status !== 'ready') {
      this.client.disconnect();
      return;
    }
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
