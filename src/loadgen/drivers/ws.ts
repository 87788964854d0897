/**
 * WebSocket driver for switchyard's /v2/stream: KServe v2 infer requests as JSON text
 * frames `{"id":"<phase>.<slot>","model_name":…}`, slot i on socket i mod n, answers matched
 * by id. An error message (`{"id","error","code"}`) counts as `ws <code>`; a socket that
 * closes fails the requests on it (`ws closed <code>`) and reconnects on the next send.
 */
import WebSocket from 'ws';
import { socketErrorKind, type Driver, type Sink } from './driver.js';
import { parseSlotId } from './grpc-stream.js';

const ID_PREFIX = '{"id":"';
const ERROR_AFTER_ID = ',"error":';

interface Answer {
  id: string;
  error: string | null;
  detail: string | null;
}

/** Reads an answer's id (the gateway writes it first) and whether it is an error. */
export function readAnswer(text: string): Answer | null {
  if (text.startsWith(ID_PREFIX)) {
    const end = text.indexOf('"', ID_PREFIX.length);
    if (end > 0 && !text.startsWith(ERROR_AFTER_ID, end + 1)) return { id: text.slice(ID_PREFIX.length, end), error: null, detail: null };
  }
  try {
    const m = JSON.parse(text) as { id?: unknown; error?: unknown; code?: unknown };
    if (typeof m.id !== 'string') return null;
    if (m.error === undefined) return { id: m.id, error: null, detail: null };
    return { id: m.id, error: `ws ${typeof m.code === 'string' ? m.code : 'error'}`, detail: typeof m.error === 'string' ? m.error : JSON.stringify(m.error) };
  } catch {
    return null;
  }
}

/** One socket: open, connecting (sends wait) or closed (the next send reconnects). */
class Socket {
  ws: WebSocket | null = null;
  private waiting: string[] = [];
  private readonly driver: WsDriver;
  private readonly index: number;

  constructor(driver: WsDriver, index: number) {
    this.driver = driver;
    this.index = index;
  }

  connect(url: string): Promise<void> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.driver.answer(data.toString('utf8'));
    });
    return new Promise((resolve) => {
      ws.once('open', () => {
        for (const m of this.waiting) ws.send(m);
        this.waiting = [];
        resolve();
      });
      ws.on('error', (e: Error) => this.lost(ws, socketErrorKind(e), e.message));
      ws.on('close', (code: number) => {
        this.lost(ws, `ws closed ${code}`, `the socket closed with ${code}`);
        resolve();
      });
    });
  }

  send(url: string, message: string): void {
    const ws = this.ws;
    if (ws !== null && ws.readyState === WebSocket.OPEN) ws.send(message);
    else {
      this.waiting.push(message);
      if (ws === null) void this.connect(url);
    }
  }

  private lost(ws: WebSocket, kind: string, detail: string): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.waiting = [];
    this.driver.failSocket(this.index, kind, detail);
  }

  close(): void {
    const ws = this.ws;
    this.ws = null;
    ws?.terminate();
  }
}

export class WsDriver implements Driver {
  readonly connections: number;
  private readonly url: string;
  /** the message after `{"id":"<id>",` */
  private readonly tail: string;
  private readonly sockets: Socket[] = [];
  private sink: Sink | null = null;
  private pending = new Uint8Array(0);

  constructor(url: string, tail: string, connections: number) {
    this.url = url;
    this.tail = tail;
    this.connections = connections;
  }

  async open(): Promise<void> {
    for (let i = 0; i < this.connections; i++) this.sockets.push(new Socket(this, i));
    await Promise.all(this.sockets.map((s) => s.connect(this.url)));
  }

  send(sink: Sink, slot: number): void {
    if (sink !== this.sink) {
      this.sink = sink;
      this.pending = new Uint8Array(sink.slots);
    }
    this.pending[slot] = 1;
    this.sockets[slot % this.sockets.length].send(this.url, ID_PREFIX + sink.id + '.' + slot + '",' + this.tail);
  }

  /** An answer arrived on any socket. */
  answer(text: string): void {
    const a = readAnswer(text);
    const sink = this.sink;
    const ref = a === null ? null : parseSlotId(a.id);
    if (a === null || sink === null || ref === null || ref.phase !== sink.id || this.pending[ref.slot] !== 1) return;
    this.pending[ref.slot] = 0;
    sink.done(ref.slot, a.error, a.detail);
  }

  /** Socket `index` is gone: its requests of the current sink fail. */
  failSocket(index: number, kind: string, detail: string): void {
    const sink = this.sink;
    if (sink === null) return;
    const n = this.sockets.length;
    for (let slot = index; slot < this.pending.length; slot += n) {
      if (this.pending[slot] !== 1) continue;
      this.pending[slot] = 0;
      sink.done(slot, kind, detail);
    }
  }

  async close(): Promise<void> {
    this.sink = null;
    for (const s of this.sockets) s.close();
    this.sockets.length = 0;
  }
}
