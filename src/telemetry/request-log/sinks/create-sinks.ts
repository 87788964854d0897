import type { Redis } from 'ioredis';
import { openRedis } from '../../../redis/index.js';
import type { RequestLogSinkConfig } from '../../../config/index.js';
import type { RequestLogSink } from '../sink.js';
import { FileSink } from './file-sink.js';
import { RedisStreamSink } from './redis-stream-sink.js';
import { StdoutSink } from './stdout-sink.js';

export interface CreateSinksOptions {
  /** the server's shared Redis client (for sinks without their own url), or null */
  readonly redis: Redis | null;
  /** redis.url of the server config: a client is created from it when `redis` is null */
  readonly redisUrl: string | null;
}

/**
 * The sinks of `request_log.sinks`, named by type ("file"; "file_2" for the second file
 * sink…). A redis_stream sink with its own url gets its own client; one without uses the
 * shared client, or a client of its own made from redis.url (config validation makes sure
 * there is one).
 */
export function createSinks(configs: readonly RequestLogSinkConfig[], opts: CreateSinksOptions): RequestLogSink[] {
  const seen = new Map<string, number>();
  return configs.map((config) => {
    const n = (seen.get(config.type) ?? 0) + 1;
    seen.set(config.type, n);
    const name = n === 1 ? config.type : `${config.type}_${n}`;
    switch (config.type) {
      case 'file':
        return new FileSink({ name, path: config.path, maxBytes: config.max_bytes, maxFiles: config.max_files });
      case 'stdout':
        return new StdoutSink(name);
      case 'redis_stream': {
        const url = config.url ?? (opts.redis === null ? opts.redisUrl : null);
        const client = url === null ? opts.redis : createStreamClient(url);
        if (client === null) throw new Error(`request_log sink ${name}: no Redis to write to; set its url or redis.url`);
        return new RedisStreamSink({ name, client, ownsClient: url !== null, stream: config.stream, maxlen: config.maxlen });
      }
    }
  });
}

/**
 * A client of the sink's own. Errors surface as failed writes, which the writer counts and
 * logs; the 'error' listener only keeps ioredis from printing each reconnect failure.
 */
export function createStreamClient(url: string): Redis {
  return openRedis(url, 'request-log');
}
