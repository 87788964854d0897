import type { TemplatedApp, WebSocket } from '../http/index.js';
import type { ServerConfig } from '../../config/index.js';
import { GatewayError } from '../../core/index.js';
import type { Gateway } from '../../gateway.js';
import type { StreamView } from '../../telemetry/index.js';
import { StreamConnection, type StreamConnectionStats, type StreamLimits } from './connection.js';

/** The URL of WebSocket streaming on the HTTP port. */
export const STREAM_PATH = '/v2/stream';

/** uWS keeps this per socket; `connection` is set when the socket opens. */
interface StreamUserData {
  connection: StreamConnection | null;
}

/** uWS's maxPayloadLength is a 32-bit int. */
const MAX_UWS_PAYLOAD = 2 ** 31 - 1;

function limitsOf(cfg: ServerConfig['websocket']): StreamLimits {
  return Object.freeze({
    maxPayloadBytes: cfg.max_payload_bytes,
    maxInflight: cfg.max_inflight_per_connection,
    maxQueued: cfg.max_queued_per_connection,
    maxQueuedBytes: cfg.max_queued_bytes,
    maxBufferedBytes: cfg.max_buffered_bytes,
    maxViolations: cfg.max_violations,
  });
}

/**
 * The WebSocket door: KServe v2 infer requests as messages on ws://host:port/v2/stream,
 * responses in completion order (see connection.ts for the limits, frames.ts for the wire
 * format). It shares the REST server's uWS app; every request goes through Gateway.infer()
 * with protocol "ws".
 */
export class StreamDoor {
  private readonly gateway: Gateway;
  private readonly limits: StreamLimits;
  private readonly connections = new Set<StreamConnection>();

  constructor(gateway: Gateway) {
    this.gateway = gateway;
    this.limits = limitsOf(gateway.config.websocket);
  }

  /** Serves STREAM_PATH on `app`. */
  register(app: TemplatedApp): void {
    const cfg = this.gateway.config.websocket;
    app.ws<StreamUserData>(STREAM_PATH, {
      // messages up to max_payload_bytes are read and answered (an error when over the limit);
      // uWS itself drops the connection on anything over twice that, without buffering it
      // (no close frame: clients see 1006)
      maxPayloadLength: Math.min(cfg.max_payload_bytes * 2, MAX_UWS_PAYLOAD),
      // 0: uWS never drops a message; StreamConnection bounds what it writes instead
      maxBackpressure: 0,
      idleTimeout: cfg.idle_timeout_s,
      sendPingsAutomatically: cfg.send_pings,
      upgrade: (res, req, context) => {
        const data: StreamUserData = { connection: null };
        res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
      },
      open: (ws) => this.opened(ws),
      message: (ws, data, isBinary) => this.message(ws, data, isBinary),
      drain: (ws) => ws.getUserData().connection?.drain(),
      close: (ws, code) => this.closed(ws, code),
    });
    // a plain HTTP request (no Upgrade) to the stream URL: say what it is
    app.any(STREAM_PATH, (res) => {
      const err = new GatewayError('SY_ERR_BAD_REQUEST', `${STREAM_PATH} is a WebSocket endpoint: connect with a WebSocket client (ws://host:port${STREAM_PATH})`);
      res.cork(() => {
        res.writeStatus(`${err.httpStatus} Bad Request`).writeHeader('content-type', 'application/json').end(JSON.stringify({ error: err.message }));
      });
    });
    this.gateway.metrics.watchStreams(() => this.view());
  }

  /** Closes every open connection with 1001 (going away): the server is stopping. */
  closeAll(): void {
    for (const c of [...this.connections]) c.close(CLOSE_GOING_AWAY, 'server shutting down');
  }

  /** Every open connection's state. */
  stats(): StreamConnectionStats[] {
    return [...this.connections].map((c) => c.stats());
  }

  /** Sums over the open connections, for the switchyard_ws_* gauges. */
  view(): StreamView {
    let inflight = 0;
    let queued = 0;
    let bufferedBytes = 0;
    for (const c of this.connections) {
      inflight += c.inflightCount;
      queued += c.queuedCount;
      bufferedBytes += c.bufferedBytes;
    }
    return { connections: this.connections.size, inflight, queued, bufferedBytes };
  }

  private opened(ws: WebSocket<StreamUserData>): void {
    const c = new StreamConnection(ws, this.gateway, this.limits);
    ws.getUserData().connection = c;
    this.connections.add(c);
  }

  /** Nothing a client sends may take the process down: an unexpected throw is answered, not raised. */
  private message(ws: WebSocket<StreamUserData>, data: ArrayBuffer, isBinary: boolean): void {
    const c = ws.getUserData().connection;
    if (c === null) return;
    try {
      c.receive(data, isBinary);
    } catch (e) {
      this.gateway.log.error('internal error in a websocket message', { err: e });
      c.sendError(null, e);
    }
  }

  private closed(ws: WebSocket<StreamUserData>, code: number): void {
    const data = ws.getUserData();
    const c = data.connection;
    if (c === null) return;
    data.connection = null;
    this.connections.delete(c);
    c.closed();
    this.gateway.log.debug('websocket closed', { code });
  }
}

/** RFC 6455: the endpoint is going away (server shutdown). */
const CLOSE_GOING_AWAY = 1001;

const doors = new WeakMap<Gateway, StreamDoor>();

/**
 * Serves WebSocket streaming for `gateway` on `app` (the REST server's uWS app), unless
 * `websocket.enabled` is false. Returns the door, or null when disabled.
 */
export function registerStream(app: TemplatedApp, gateway: Gateway): StreamDoor | null {
  if (!gateway.config.websocket.enabled) return null;
  const door = new StreamDoor(gateway);
  door.register(app);
  doors.set(gateway, door);
  return door;
}

/** The state of every open /v2/stream connection of `gateway` (empty when it has none). */
export function streamStats(gateway: Gateway): StreamConnectionStats[] {
  return doors.get(gateway)?.stats() ?? [];
}
