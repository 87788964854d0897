/**
 * The gRPC transport on node:http2 (h2c, no TLS: the door is plaintext, as it was with
 * grpc-js's insecure credentials): connections, streams → calls (h2-call.ts), and shutdown.
 *
 * - The listening socket is ours (node:net), so that connections are counted and capped
 *   before HTTP/2 sees them: a connection beyond `maxConnections` is closed on arrival.
 * - A connection with no open stream for `idleTimeoutMs` gets GOAWAY and is closed (grpc-js's
 *   `grpc.max_connection_idle_ms`); clients reconnect on their next call.
 * - Each stream is checked (content-type application/grpc…, a known path) and becomes one
 *   H2Call; an unknown method gets UNIMPLEMENTED, another content type 415, as with grpc-js.
 * - Keepalive: node:http2 answers the client's PINGs; the server sends none (grpc-js's
 *   default, which is what the door used).
 * - close(): GOAWAY on every connection (calls in progress may finish, new ones go
 *   elsewhere), then after the grace period whatever is still open is cut.
 */
import { constants, createServer as createHttp2Server, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type { ConnectionMetrics } from '../../telemetry/index.js';
import type { Logger } from '../../core/index.js';
import type { CallConnection, CallHost, Method } from './call.js';
import { H2Call } from './h2-call.js';
import { Status, trailersOnly, type CallStatus } from './grpc-wire.js';
import { statusOf } from './status.js';

export interface H2ServerOptions {
  maxReceiveMessageBytes: number;
  maxSendMessageBytes: number;
  maxConnections: number;
  /** 0: connections are never closed for being idle */
  idleTimeoutMs: number;
  connections: ConnectionMetrics;
  log: Logger;
}

const CONN = Symbol('switchyard.grpc.connection');
interface ConnSession extends Http2Session {
  [CONN]: Connection;
}

const END_STREAM = Object.freeze({ endStream: true, sendDate: false });
const UNSUPPORTED_MEDIA_TYPE = Object.freeze({ [constants.HTTP2_HEADER_STATUS]: constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE });

function ignore(): void {}

/** One HTTP/2 connection: its peer and its open streams (for the idle timeout). */
class Connection implements CallConnection {
  readonly session: Http2Session;
  readonly peer: string;
  private active: number;
  private lastIdle: number;
  private readonly idleMs: number;
  timer: NodeJS.Timeout | null;

  constructor(session: Http2Session, peer: string, idleMs: number) {
    this.session = session;
    this.peer = peer;
    this.active = 0;
    this.lastIdle = Date.now();
    this.idleMs = idleMs;
    this.timer = null;
    if (idleMs > 0) {
      this.timer = setTimeout(idleCheck, idleMs, this);
      this.timer.unref();
    }
  }

  streamOpened(): void {
    this.active++;
  }

  streamClosed(): void {
    if (--this.active === 0 && this.timer !== null) {
      this.lastIdle = Date.now();
      // a timer that fired while streams were open is re-armed here (refresh() restarts it)
      this.timer.refresh();
    }
  }

  checkIdle(): void {
    if (this.active > 0) return; // re-armed when the last stream closes
    if (Date.now() - this.lastIdle >= this.idleMs) this.session.close();
    else this.timer?.refresh();
  }

  stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

function idleCheck(conn: Connection): void {
  conn.checkIdle();
}

export class H2Server implements CallHost {
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  private readonly methods: ReadonlyMap<string, Method>;
  private readonly h2: Http2Server;
  private readonly opts: H2ServerOptions;
  private readonly sessions = new Set<Connection>();
  private listener: NetServer | null = null;
  private open = 0;
  /** resolves close() once the last connection is gone */
  private allClosed: (() => void) | null = null;

  constructor(methods: readonly Method[], opts: H2ServerOptions) {
    this.methods = new Map(methods.map((m) => [m.path, m]));
    this.maxReceiveMessageBytes = opts.maxReceiveMessageBytes;
    this.maxSendMessageBytes = opts.maxSendMessageBytes;
    this.opts = opts;
    // grpc-js's settings: no session memory limit (node degrades badly when it is reached:
    // ENHANCE_YOUR_CALM), and no limit on the header blocks the server sends
    this.h2 = createHttp2Server({ maxSessionMemory: Number.MAX_SAFE_INTEGER, maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER });
    this.h2.on('session', (session: Http2Session) => this.onSession(session));
    this.h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.onStream(stream, headers));
  }

  statusOf(e: unknown, path: string): CallStatus {
    return statusOf(e, this.opts.log, path);
  }

  /** Binds `host:port` (0 = any free port); resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const { maxConnections, connections } = this.opts;
    const listener = createServer((socket) => {
      if (this.open >= maxConnections) {
        connections.refused.inc({ door: 'grpc' });
        socket.destroy();
        return;
      }
      this.open++;
      connections.open.inc({ door: 'grpc' });
      socket.once('close', () => {
        this.open--;
        connections.open.dec({ door: 'grpc' });
      });
      this.h2.emit('connection', socket);
    });
    this.listener = listener;
    return new Promise((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => resolve((listener.address() as AddressInfo).port));
    });
  }

  /** Stops accepting connections, sends GOAWAY on each, and cuts what is still open after `graceMs`. */
  close(graceMs: number): Promise<void> {
    this.listener?.close();
    for (const c of this.sessions) c.session.close();
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.allClosed = null;
        for (const c of this.sessions) c.session.destroy(undefined, constants.NGHTTP2_CANCEL);
        resolve();
      }, graceMs);
      this.allClosed = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private onSession(session: Http2Session): void {
    session.on('error', ignore); // a broken connection ends in 'close'
    const socket = session.socket;
    const addr = socket.remoteAddress;
    const peer = addr === undefined ? 'unknown' : socket.remotePort ? `${addr}:${socket.remotePort}` : addr;
    const conn = new Connection(session, peer, this.opts.idleTimeoutMs);
    (session as ConnSession)[CONN] = conn;
    this.sessions.add(conn);
    session.once('close', () => {
      conn.stopTimer();
      this.sessions.delete(conn);
      if (this.sessions.size === 0 && this.allClosed !== null) {
        const done = this.allClosed;
        this.allClosed = null;
        done();
      }
    });
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', ignore); // a reset or broken stream ends in 'close', which cancels its call
    const conn = (stream.session as ConnSession)[CONN];
    conn.streamOpened();
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      this.refuse(stream, conn, UNSUPPORTED_MEDIA_TYPE);
      return;
    }
    const path = headers[':path'] ?? '';
    const method = this.methods.get(path);
    if (method === undefined) {
      this.refuse(stream, conn, trailersOnly({ code: Status.UNIMPLEMENTED, details: `The server does not implement the method ${path}`, metadata: null }));
      return;
    }
    new H2Call(stream, headers, method, this, conn).start();
  }

  private refuse(stream: ServerHttp2Stream, conn: Connection, headers: Readonly<Record<string, string | number>>): void {
    stream.once('close', () => conn.streamClosed());
    stream.resume(); // read and drop whatever the client sends
    if (!stream.destroyed && !stream.closed) stream.respond(headers, END_STREAM);
  }
}
