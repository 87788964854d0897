import WebSocket from 'ws';

/** One message from /v2/stream: a text frame's JSON, or a binary frame split into header and tensor bytes. */
export interface StreamMessage {
  json: Record<string, unknown>;
  /** null for a text frame */
  binary: Buffer | null;
}

/** A /v2/stream client (the `ws` package) that collects messages in order. */
export class StreamClient {
  readonly ws: WebSocket;
  private readonly inbox: StreamMessage[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  closeCode: number | null = null;
  pings = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.inbox.push(parseMessage(data, isBinary));
      this.wake();
    });
    ws.on('ping', () => {
      this.pings++;
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeCode = code;
        this.wake();
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  static open(baseUrl: string, path = '/v2/stream'): Promise<StreamClient> {
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + path);
    const c = new StreamClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  send(msg: Record<string, unknown> | string | Buffer): void {
    if (Buffer.isBuffer(msg)) this.ws.send(msg, { binary: true });
    else this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg), { binary: false });
  }

  /** Waits for `n` more messages (fails if the socket closes first). */
  async take(n: number): Promise<StreamMessage[]> {
    await this.until(() => this.inbox.length >= n || this.closeCode !== null);
    if (this.inbox.length < n) throw new Error(`socket closed (${this.closeCode}) after ${this.inbox.length} of ${n} messages`);
    return this.inbox.splice(0, n);
  }

  async next(): Promise<StreamMessage> {
    return (await this.take(1))[0];
  }

  /** Messages received so far, removed from the inbox. */
  drainInbox(): StreamMessage[] {
    return this.inbox.splice(0, this.inbox.length);
  }

  /** Resolves when `cond` holds, re-checked on every message, ping and close. */
  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (cond()) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export function parseMessage(data: Buffer, isBinary: boolean): StreamMessage {
  if (!isBinary) return { json: JSON.parse(data.toString('utf8')) as Record<string, unknown>, binary: null };
  const h = data.readUInt32LE(0);
  return { json: JSON.parse(data.subarray(4, 4 + h).toString('utf8')) as Record<string, unknown>, binary: data.subarray(4 + h) };
}

/** A binary frame: 4-byte little-endian header length, JSON header, tensor bytes. */
export function binaryFrame(header: Record<string, unknown>, tensors: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const frame = Buffer.alloc(4 + json.byteLength + tensors.byteLength);
  frame.writeUInt32LE(json.byteLength, 0);
  json.copy(frame, 4);
  frame.set(tensors, 4 + json.byteLength);
  return frame;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
