/**
 * Every Redis connection the gateway and its commands open, by role: the options each role
 * needs and why, one 'error' listener, and one way to close. A role's options carry promises
 * of the part that uses it (a request never waits for a reconnect; a route change is never
 * taken as seen when it was not read), so they are decided here, side by side, rather than at
 * each `new Redis(`.
 *
 * Auto-pipelining (DESIGN: on) is on wherever commands are issued one at a time from many
 * requests; it is off where the caller already sends explicit pipelines (request-log streams,
 * feature loading) or only subscribes.
 */
import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'routes' | 'route-events' | 'features' | 'feature-load' | 'request-log' | 'predictions';

/** Reconnects forever, backing off to at most 1 s between tries. */
const RECONNECT = (times: number): number => Math.min(times * 50, 1000);

const ROLES: Record<RedisRole, RedisOptions> = {
  // Route store commands. Not connected until connectRedis() (startup fails when Redis is
  // unreachable); while disconnected a command fails at once (a poller retries what failed).
  routes: {
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: 2000,
    maxRetriesPerRequest: 1,
    retryStrategy: RECONNECT,
    enableAutoPipelining: true,
    // A request's feedback record (SET req:<id>, and DEL when it failed) is written to the
    // socket at once, before the answer leaves: auto-pipelined, it waited behind the round
    // trip of the pipeline in flight, the answer overtook it, and a reward sent at once to
    // another replica found no record (404 unknown, ~1% of rewards in `npm run test:cluster`; RedisRouteStore.credit covers the rest).
    autoPipeliningIgnoredCommands: ['set', 'del'],
  },
  // The route store's pub/sub subscriber: a connection in subscriber mode takes no other command.
  'route-events': {
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: 2000,
    maxRetriesPerRequest: 1,
    retryStrategy: RECONNECT,
  },
  // Feature lookups on the request path: commands of concurrent requests share round trips;
  // while disconnected they fail at once (the defaults are used) instead of waiting.
  features: {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: RECONNECT,
    connectTimeout: 2000,
    lazyConnect: false,
  },
  // `switchyard features load`: one connection attempt, explicit pipelines of batches.
  'feature-load': {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: false,
    connectTimeout: 5000,
    retryStrategy: () => null,
  },
  // Request-log stream sinks: one explicit pipeline per batch; a failed write is counted.
  'request-log': {
    commandTimeout: 5000,
    enableAutoPipelining: false,
    lazyConnect: false,
  },
  // The label join's prediction index: one command per request, fire and forget.
  predictions: {
    commandTimeout: 5000,
    enableAutoPipelining: true,
    lazyConnect: false,
  },
};

/** The options a role's connections use (tests read them). */
export function roleOptions(role: RedisRole): Readonly<RedisOptions> {
  return ROLES[role];
}

/**
 * A connection for `role` to `url`. Its errors surface through the commands that fail; the
 * 'error' listener only keeps ioredis from printing each failed reconnect. `overrides` adjust
 * timeouts (tests, the route store's settings), never the role's promises.
 */
export function openRedis(url: string, role: RedisRole, overrides: Pick<RedisOptions, 'commandTimeout' | 'connectTimeout'> = {}): Redis {
  const client = new Redis(url, { ...ROLES[role], ...overrides });
  client.on('error', () => undefined);
  return client;
}

/** Connects lazily opened clients, failing after `timeoutMs`; on failure every one is disconnected. */
export async function connectRedis(clients: readonly Redis[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(clients.map((c) => c.connect())),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    for (const c of clients) c.disconnect();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Closes a connection: QUIT (which waits for the replies to what is queued) when it is
 * connected, else a disconnect (QUIT on a client that is not connected would wait for a
 * reconnect); a failed QUIT disconnects too. Never rejects.
 */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** `redis://user:secret@host` → `redis://user:***@host`, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^/:@\s]*:)[^@\s]*@/, '$1***@');
}
