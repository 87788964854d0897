import type { Redis } from 'ioredis';
import { Prediction } from './prediction.js';
import type { PredictionStore } from './store.js';

export interface RedisPredictionStoreOptions {
  readonly client: Redis;
  /** true: the store created the client and quits it on close */
  readonly ownsClient: boolean;
  readonly keyPrefix: string;
  readonly ttlS: number;
  /** called when remembering a prediction failed (the caller counts it) */
  readonly onError: (err: unknown) => void;
}

/**
 * Predictions in Redis, shared by every replica: `<prefix><id>` holds the prediction's
 * JSON, `<prefix><id>:labelled` marks a labelled one; both expire after ttl_s (SET … EX).
 */
export class RedisPredictionStore implements PredictionStore {
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly onError: (err: unknown) => void;

  constructor(opts: RedisPredictionStoreOptions) {
    this.client = opts.client;
    this.ownsClient = opts.ownsClient;
    this.prefix = opts.keyPrefix;
    this.ttl = opts.ttlS;
    this.onError = opts.onError;
  }

  remember(id: string, prediction: Prediction): void {
    this.client.set(this.prefix + id, JSON.stringify(prediction), 'EX', this.ttl).catch(this.onError);
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
