import { describe, expect, it } from 'vitest';
import { InferResponse, Tensor, cancelled, type InferRequest } from '../../src/core/index.js';
import { StreamConnection, type Inferrer, type StreamLimits, type StreamSocket } from '../../src/transport/ws/index.js';

/** A socket whose send buffer the test sets; what is sent and how it closes are recorded. */
class FakeSocket implements StreamSocket {
  buffered = 0;
  sent: { text: string | null; binary: Uint8Array | null }[] = [];
  ended: { code: number; reason: string } | null = null;
  onEnd: (() => void) | null = null;

  send(message: Uint8Array | string, isBinary: boolean): number {
    if (isBinary) this.sent.push({ text: null, binary: message as Uint8Array });
    else this.sent.push({ text: typeof message === 'string' ? message : Buffer.from(message).toString('utf8'), binary: null });
    return 1;
  }

  getBufferedAmount(): number {
    return this.buffered;
  }

  end(code: number, reason: string): void {
    this.ended = { code, reason };
    this.onEnd?.();
  }

  cork(cb: () => void): void {
    cb();
  }

  /** the JSON of every text message sent, removed */
  take(): Record<string, unknown>[] {
    const out = this.sent.map((m) => JSON.parse(m.text ?? '{}') as Record<string, unknown>);
    this.sent = [];
    return out;
  }
}

/** A gateway whose requests the test answers by hand. */
class FakeGateway implements Inferrer {
  running: { req: InferRequest; resolve: (r: InferResponse) => void; reject: (e: unknown) => void }[] = [];

  infer(req: InferRequest): Promise<InferResponse> {
    return new Promise((resolve, reject) => {
      this.running.push({ req, resolve, reject });
      req.onCancel = () => reject(cancelled());
    });
  }

  ids(): string[] {
    return this.running.map((r) => r.req.id);
  }

  /** Answers the running request with `id` (y = [[1]]). */
  async answer(id: string): Promise<void> {
    const i = this.running.findIndex((r) => r.req.id === id);
    const [r] = this.running.splice(i, 1);
    r.resolve(new InferResponse(id, r.req.modelName, '1', [new Tensor('y', 'FP32', [1, 1], new Float32Array([1]))]));
    await new Promise((res) => setImmediate(res));
  }
}

const LIMITS: StreamLimits = { maxPayloadBytes: 4096, maxInflight: 2, maxQueued: 3, maxQueuedBytes: 4096, maxBufferedBytes: 1000, maxViolations: 3 };

function setup(limits: Partial<StreamLimits> = {}): { socket: FakeSocket; gateway: FakeGateway; conn: StreamConnection } {
  const socket = new FakeSocket();
  const gateway = new FakeGateway();
  const conn = new StreamConnection(socket, gateway, { ...LIMITS, ...limits });
  socket.onEnd = () => conn.closed();
  return { socket, gateway, conn };
}

function message(id: string, extra: Record<string, unknown> = {}): ArrayBuffer {
  const text = JSON.stringify({ id, model_name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }], ...extra });
  return new Uint8Array(Buffer.from(text, 'utf8')).buffer;
}

describe('StreamConnection limits', () => {
  it('runs at most maxInflight requests and starts the held ones in arrival order as answers go out', async () => {
    const { socket, gateway, conn } = setup();
    for (const id of ['a', 'b', 'c', 'd', 'e']) conn.receive(message(id), false);
    expect(gateway.ids()).toEqual(['a', 'b']);
    expect(conn.stats()).toMatchObject({ inflight: 2, queued: 3, started: 2 });
    await gateway.answer('b');
    expect(socket.take().map((m) => m.id)).toEqual(['b']);
    expect(gateway.ids()).toEqual(['a', 'c']);
    await gateway.answer('a');
    await gateway.answer('c');
    expect(gateway.ids()).toEqual(['d', 'e']);
    expect(socket.take().map((m) => m.id)).toEqual(['a', 'c']);
    expect(conn.stats()).toMatchObject({ inflight: 2, queued: 0, started: 5, answered: 3, peakQueued: 3 });
  });

  it('answers a message over the in-flight and waiting limits with an error for its id', () => {
    const { socket, gateway, conn } = setup();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) conn.receive(message(id), false);
    expect(gateway.ids()).toEqual(['a', 'b']);
    const [err] = socket.take();
    expect(err).toEqual({
      id: 'f',
      code: 'SY_ERR_QUEUE_FULL',
      error: 'too many requests in flight on this connection (limit 2 running, and 3 or 4096 bytes waiting); wait for responses before sending more',
    });
  });

  it('holds messages past maxQueuedBytes only when nothing else waits', () => {
    const { socket, conn } = setup({ maxQueuedBytes: 150, maxInflight: 1 });
    conn.receive(message('a'), false);
    conn.receive(message('b', { pad: 'x'.repeat(200) }), false); // over the bytes limit, but the first to wait
    conn.receive(message('c'), false);
    expect(conn.stats()).toMatchObject({ inflight: 1, queued: 1 });
    expect(socket.take().map((m) => [m.id, m.code])).toEqual([['c', 'SY_ERR_QUEUE_FULL']]);
  });

  it('starts nothing while the send buffer is over maxBufferedBytes, and resumes on drain', async () => {
    const { socket, gateway, conn } = setup({ maxInflight: 10 });
    socket.buffered = 1001;
    conn.receive(message('a'), false);
    conn.receive(message('b'), false);
    expect(gateway.ids()).toEqual([]);
    expect(conn.stats()).toMatchObject({ queued: 2, backpressured: true, pauses: 1, peakBufferedBytes: 1001 });
    conn.drain();
    expect(gateway.ids()).toEqual([]);
    socket.buffered = 1000;
    conn.drain();
    expect(gateway.ids()).toEqual(['a', 'b']);
    expect(conn.stats()).toMatchObject({ queued: 0, backpressured: false, pauses: 1 });
    await gateway.answer('a');
    expect(socket.take().map((m) => m.id)).toEqual(['a']);
  });

  it('closes with 1013 when a client that does not read fills the waiting room', () => {
    const { socket, gateway, conn } = setup();
    socket.buffered = 5000;
    for (const id of ['a', 'b', 'c']) conn.receive(message(id), false);
    expect(socket.ended).toBeNull();
    conn.receive(message('d'), false);
    expect(socket.ended).toEqual({ code: 1013, reason: 'try again later: too many requests sent without reading the responses' });
    expect(socket.sent).toEqual([]);
    expect(gateway.ids()).toEqual([]);
    expect(conn.isOpen).toBe(false);
  });
});

describe('StreamConnection protocol violations', () => {
  it('answer each with an error (id null) and close with 1008 at maxViolations', () => {
    const { socket, conn } = setup();
    conn.receive(new Uint8Array(Buffer.from('nope')).buffer, false);
    conn.receive(new Uint8Array([1, 2]).buffer, true);
    expect(socket.take().map((m) => [m.id, m.code])).toEqual([
      [null, 'SY_ERR_MALFORMED_JSON'],
      [null, 'SY_ERR_BAD_REQUEST'],
    ]);
    expect(socket.ended).toBeNull();
    conn.receive(new ArrayBuffer(5000), false);
    expect(socket.take()).toEqual([
      { id: null, code: 'SY_ERR_BODY_TOO_LARGE', error: 'message of 5000 bytes is over the limit of 4096 bytes (websocket.max_payload_bytes); send smaller batches' },
    ]);
    expect(socket.ended).toEqual({ code: 1008, reason: 'closed after 3 protocol violations; see the error messages' });
  });

  it('do not include per-request errors, which carry the id', () => {
    const { socket, gateway, conn } = setup({ maxViolations: 1 });
    conn.receive(message('a', { model_name: 5 }), false);
    conn.receive(message('b', { inputs: 'x' }), false);
    expect(socket.take().map((m) => m.id)).toEqual(['a', 'b']);
    expect(socket.ended).toBeNull();
    expect(gateway.ids()).toEqual([]);
  });
});

describe('StreamConnection close', () => {
  it('cancels the running requests, drops the held ones and sends nothing more', async () => {
    const { socket, gateway, conn } = setup();
    for (const id of ['a', 'b', 'c']) conn.receive(message(id), false);
    const running = gateway.running.map((r) => r.req);
    conn.closed();
    expect(running.map((r) => r.cancelled)).toEqual([true, true]);
    expect(conn.stats()).toMatchObject({ inflight: 0, queued: 0 });
    await new Promise((res) => setImmediate(res));
    expect(socket.sent).toEqual([]);
  });

  it('answers binary outputs as a binary frame: length prefix, JSON header, tensor bytes', async () => {
    const { socket, gateway, conn } = setup();
    conn.receive(message('a', { parameters: { binary_data_output: true } }), false);
    await gateway.answer('a');
    const [m] = socket.sent;
    const frame = Buffer.from(m.binary as Uint8Array);
    const h = frame.readUInt32LE(0);
    expect(JSON.parse(frame.subarray(4, 4 + h).toString())).toMatchObject({ id: 'a', outputs: [{ name: 'y', parameters: { binary_data_size: 4 } }] });
    expect(frame.subarray(4 + h).readFloatLE(0)).toBe(1);
  });
});
