import type { Redis } from 'ioredis';
import { closeRedis } from '../../../redis/index.js';
import type { RequestLogSink } from '../sink.js';

export interface RedisStreamSinkOptions {
  readonly name: string;
  readonly client: Redis;
  /** true: this sink created the client and quits it on close */
  readonly ownsClient: boolean;
  readonly stream: string;
  /** XADD MAXLEN ~ maxlen */
  readonly maxlen: number;
}

/** The stream field that holds the JSON record. */
export const RECORD_FIELD = 'record';

/**
 * Records added to a Redis Stream, one entry per record (`XADD <stream> MAXLEN ~ n * record
 * <json>`), one pipeline per batch. While Redis is unreachable the batch in flight waits for
 * ioredis to reconnect (or fails once the client gives up on it); meanwhile the writer's
 * buffer for this sink fills and its overflow is counted as dropped. ioredis reconnects by
 * itself.
 */
export class RedisStreamSink implements RequestLogSink {
  readonly name: string;
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly stream: string;
  private readonly maxlen: string;

  constructor(opts: RedisStreamSinkOptions) {
    this.name = opts.name;
    this.client = opts.client;
    this.ownsClient = opts.ownsClient;
    this.stream = opts.stream;
    this.maxlen = String(opts.maxlen);
  }

  async write(lines: readonly string[]): Promise<number> {
    if (lines.length === 0) return 0;
    const pipeline = this.client.pipeline();
    for (const line of lines) pipeline.xadd(this.stream, 'MAXLEN', '~', this.maxlen, '*', RECORD_FIELD, line);
    const results = await pipeline.exec();
    if (results === null) return lines.length;
    let failed = 0;
    for (const [err] of results) if (err !== null) failed++;
    return failed;
  }

  async close(): Promise<void> {
    if (this.ownsClient) await closeRedis(this.client);
  }
}
