import type { Redis } from 'ioredis';
import { createFeatureRedisClient } from '../../src/features/index.js';

/** Counts the writes on a feature client's socket: one per round trip (a pipeline is one write). */
export class WriteCounter {
  writes = 0;
  client: Redis | null = null;

  /** a createClient option for FeatureService.create */
  readonly create = (url: string): Redis => {
    const client = createFeatureRedisClient(url);
    client.on('connect', () => {
      const socket = client.stream;
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = ((...args: unknown[]) => {
        this.writes++;
        return write(...args);
      }) as typeof socket.write;
    });
    this.client = client;
    return client;
  };
}

/** Calls of a command since the server started (INFO commandstats). */
export async function commandCalls(admin: Redis, command: string): Promise<number> {
  const info = await admin.info('commandstats');
  const m = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return m === null ? 0 : Number(m[1]);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns true (at most `ms`); throws naming `what` otherwise. */
export async function until(what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}
