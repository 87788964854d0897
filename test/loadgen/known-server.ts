/**
 * A node:http server with known behaviour for the load generator's accounting tests:
 * answers every POST after `delayMs`, 503 for every `failEvery`-th request, optionally
 * stalls once (holds every answer until the stall ends), or never answers one request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KnownBehaviour {
  delayMs: number;
  /** answer 503 to requests n·failEvery (1-based); 0 = never */
  failEvery?: number;
  /** when request number `stallAt` arrives, hold every answer for `stallMs` */
  stallAt?: number;
  stallMs?: number;
  /** never answer this request (1-based) */
  hangAt?: number;
}

export interface KnownServer {
  origin: string;
  /** requests received so far */
  count(): number;
  close(): Promise<void>;
}

export async function startKnownServer(b: KnownBehaviour): Promise<KnownServer> {
  let n = 0;
  let stallUntil = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const k = ++n;
      if (k === b.hangAt) return;
      if (k === b.stallAt) stallUntil = Date.now() + (b.stallMs ?? 0);
      const fail = b.failEvery !== undefined && b.failEvery > 0 && k % b.failEvery === 0;
      const answer = (): void => {
        const wait = stallUntil - Date.now();
        if (wait > 0) {
          setTimeout(answer, wait);
          return;
        }
        if (fail) res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"overloaded, try later"}');
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{"outputs":[]}');
      };
      setTimeout(answer, b.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    count: () => n,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
