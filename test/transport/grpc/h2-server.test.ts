/**
 * The gRPC transport on node:http2 (h2-server.ts, h2-call.ts) against a raw HTTP/2 client,
 * for what grpc-js clients never send: split and packed frames, missing or extra messages,
 * bad headers, resets. Methods here echo bytes; the real services are in test/integration.
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/telemetry/index.js';
import { silentLogger } from '../../../src/core/index.js';
import { encodeGrpcMessage, frame, parseTimeout } from '../../../src/transport/grpc/grpc-wire.js';
import type { BidiCall, Cancellable, Method, ServerStreamCall, UnaryCall } from '../../../src/transport/grpc/call.js';
import { H2Server } from '../../../src/transport/grpc/h2-server.js';

const identity = (b: unknown): Uint8Array => b as Uint8Array;
const cancelled: string[] = [];
const tracker = (name: string): Cancellable => ({ cancel: () => cancelled.push(name) });

const methods: Method[] = [
  {
    path: '/t.T/Echo',
    mode: 'unary',
    decode: (b) => Buffer.from(b),
    encode: identity,
    handle: (c) => {
      const call = c as UnaryCall<Buffer, Uint8Array>;
      const text = call.request.toString();
      if (text === 'fail') call.fail({ code: 3, details: 'bad «input» 100%\nsecond line', metadata: { 'switchyard-error-code': 'SY_ERR_INVALID_INPUT' } });
      else if (text === 'bin') call.reply(call.binaryHeader('x-blob-bin') ?? Buffer.from('none'));
      else if (text === 'never') call.cancels(tracker(call.header('x-name')));
      else if (text === 'throw') throw new Error('handler bug');
      else if (text === 'big') call.reply(Buffer.alloc(2000));
      else call.reply(call.request);
    },
  },
  {
    path: '/t.T/Chat',
    mode: 'bidi_streaming',
    decode: (b) => Buffer.from(b),
    encode: identity,
    handle: (c) => {
      const call = c as BidiCall<Buffer, Uint8Array>;
      call.listen({
        onMessage: (m) => call.write(m),
        onHalfClose: () => call.end(),
        onDrain: () => undefined,
        cancel: () => cancelled.push('chat'),
      });
    },
  },
  {
    path: '/t.T/Count',
    mode: 'server_streaming',
    decode: (b) => Number(Buffer.from(b).toString()),
    encode: identity,
    handle: (c) => {
      const call = c as ServerStreamCall<number, Uint8Array>;
      for (let i = 0; i < call.request; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
  },
];

let server: H2Server;
let session: ClientHttp2Session;
let port: number;

beforeAll(async () => {
  server = new H2Server(methods, { maxReceiveMessageBytes: 1024, maxSendMessageBytes: 1024, maxConnections: 10, idleTimeoutMs: 0, connections: new Metrics(() => []).connections, log: silentLogger });
  port = await server.listen('127.0.0.1', 0);
  session = connect(`http://127.0.0.1:${port}`);
});
afterAll(async () => {
  session.close();
  await server.close(200);
});

interface Answer {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  messages: Buffer[];
  /** grpc-status and grpc-message, from trailers or a trailers-only response */
  status: number;
  message: string;
}

const GRPC = { ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' };

/** Sends `chunks` as they are (each its own write), then half-closes; collects the answer. */
function call(path: string, chunks: Buffer[], headers: OutgoingHttpHeaders = {}, s = session): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = s.request({ ...GRPC, ':path': path, ...headers });
    const a: Answer = { headers: {}, trailers: {}, messages: [], status: -1, message: '' };
    let data = Buffer.alloc(0);
    req.on('response', (h) => (a.headers = h));
    req.on('trailers', (t) => (a.trailers = t));
    req.on('data', (d: Buffer) => (data = Buffer.concat([data, d])));
    req.on('error', reject);
    req.on('close', () => {
      for (let off = 0; off + 5 <= data.length; ) {
        const n = data.readUInt32BE(off + 1);
        a.messages.push(data.subarray(off + 5, off + 5 + n));
        off += 5 + n;
      }
      const st = a.trailers['grpc-status'] ?? a.headers['grpc-status'];
      a.status = st === undefined ? -1 : Number(st);
      a.message = decodeURIComponent(String(a.trailers['grpc-message'] ?? a.headers['grpc-message'] ?? ''));
      resolve(a);
    });
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const msg = (s: string): Buffer => frame(Buffer.from(s));

describe('gRPC wire pieces', () => {
  it('reads grpc-timeout as grpc-js does', () => {
    expect(parseTimeout('250m')).toBe(250);
    expect(parseTimeout('2S')).toBe(2000);
    expect(parseTimeout('1H')).toBe(3_600_000);
    expect(parseTimeout('1500u')).toBe(1);
    expect(parseTimeout('soon')).toBeNaN();
  });
  it('percent-encodes grpc-message outside printable ASCII, and % itself', () => {
    expect(encodeGrpcMessage('plain: "text" (ok)')).toBe('plain: "text" (ok)');
    expect(encodeGrpcMessage('100% é\n')).toBe('100%25 %C3%A9%0A');
  });
});

describe('H2Server', () => {
  it('answers a unary call with headers, one message and OK trailers', async () => {
    const a = await call('/t.T/Echo', [msg('hello')]);
    expect(a.headers[':status']).toBe(200);
    expect(a.headers['content-type']).toBe('application/grpc+proto');
    expect(a.headers['grpc-accept-encoding']).toBe('identity,deflate,gzip');
    expect(a.messages.map(String)).toEqual(['hello']);
    expect(a.status).toBe(0);
  });

  it('reads a message split over DATA frames, its prefix split too', async () => {
    const m = msg('split message');
    const a = await call('/t.T/Echo', [m.subarray(0, 2), m.subarray(2, 7), m.subarray(7)]);
    expect(a.messages.map(String)).toEqual(['split message']);
  });

  it('delivers several messages of one chunk in order, and ends when the client half-closes', async () => {
    const a = await call('/t.T/Chat', [Buffer.concat([msg('a'), msg('bb'), msg('')]), msg('ccc')]);
    expect(a.messages.map(String)).toEqual(['a', 'bb', '', 'ccc']);
    expect(a.status).toBe(0);
  });

  it('serves a server-streaming call; an empty stream ends trailers-only', async () => {
    const a = await call('/t.T/Count', [msg('3')]);
    expect(a.messages.map(String)).toEqual(['0', '1', '2']);
    expect(a.status).toBe(0);
    const none = await call('/t.T/Count', [msg('0')]);
    expect(none.messages).toEqual([]);
    expect(none.headers['grpc-status']).toBe('0');
  });

  it('inflates gzip messages, and refuses an encoding it does not know', async () => {
    const body = gzipSync(Buffer.from('squeezed'));
    const compressed = Buffer.concat([Buffer.from([1, 0, 0, 0, body.length]), body]);
    expect((await call('/t.T/Echo', [compressed], { 'grpc-encoding': 'gzip' })).messages.map(String)).toEqual(['squeezed']);
    const a = await call('/t.T/Echo', [compressed], { 'grpc-encoding': 'snappy' });
    expect(a.status).toBe(12);
    expect(a.message).toBe('Received message compressed with unsupported encoding "snappy"');
  });

  it('answers errors trailers-only, grpc-message percent-encoded, metadata in the trailers', async () => {
    const a = await call('/t.T/Echo', [msg('fail')]);
    expect(a.messages).toEqual([]);
    expect(a.headers['grpc-status']).toBe('3');
    expect(a.headers['grpc-message']).toBe('bad %C2%ABinput%C2%BB 100%25%0Asecond line');
    expect(a.message).toBe('bad «input» 100%\nsecond line');
    expect(a.headers['switchyard-error-code']).toBe('SY_ERR_INVALID_INPUT');
  });

  it('answers a handler that throws with INTERNAL, and keeps serving', async () => {
    const a = await call('/t.T/Echo', [msg('throw')]);
    expect(a.status).toBe(13);
    expect(a.message).toBe('internal error; the server log has the details');
    expect((await call('/t.T/Echo', [msg('still here')])).messages.map(String)).toEqual(['still here']);
  });

  it('decodes -bin metadata from base64', async () => {
    const a = await call('/t.T/Echo', [msg('bin')], { 'x-blob-bin': Buffer.from([0, 1, 254, 255]).toString('base64') });
    expect([...a.messages[0]]).toEqual([0, 1, 254, 255]);
  });

  it('refuses unknown methods, other content types, missing and extra messages, as grpc-js does', async () => {
    const unknown = await call('/t.T/Nope', [msg('x')]);
    expect(unknown.status).toBe(12);
    expect(unknown.message).toBe('The server does not implement the method /t.T/Nope');
    const json = await call('/t.T/Echo', [msg('x')], { 'content-type': 'application/json' });
    expect(json.headers[':status']).toBe(415);
    const none = await call('/t.T/Echo', []);
    expect(none.status).toBe(12);
    expect(none.message).toMatch(/^Received no request message/);
    const two = await call('/t.T/Echo', [Buffer.concat([msg('never'), msg('b')])], { 'x-name': 'two' });
    expect(two.status).toBe(12);
    expect(two.message).toMatch(/^Received a second request message/);
    expect(cancelled).toContain('two');
  });

  it('refuses a message over the receive limit, and an answer over the send limit, in grpc-js words', async () => {
    const big = await call('/t.T/Echo', [msg('x'.repeat(2000))]);
    expect(big.status).toBe(8);
    expect(big.message).toBe('Received message larger than max (2000 vs 1024)');
    const body = gzipSync(Buffer.alloc(5000));
    const bomb = await call('/t.T/Echo', [Buffer.concat([Buffer.from([1, 0, 0, 0, body.length]), body])], { 'grpc-encoding': 'gzip' });
    expect(bomb.status).toBe(8);
    expect(bomb.message).toBe('Received message that decompresses to a size larger than 1024');
    const out = await call('/t.T/Echo', [msg('big')]);
    expect(out.status).toBe(8);
    expect(out.message).toBe('Sent message larger than max (2005 vs. 1024)');
  });

  it('ends a call whose deadline passes with DEADLINE_EXCEEDED and cancels it; a bad grpc-timeout is INTERNAL', async () => {
    const a = await call('/t.T/Echo', [msg('never')], { 'grpc-timeout': '50m', 'x-name': 'deadline' });
    expect(a.status).toBe(4);
    expect(a.message).toBe('Deadline exceeded');
    expect(cancelled).toContain('deadline');
    const bad = await call('/t.T/Echo', [msg('x')], { 'grpc-timeout': 'soon' });
    expect(bad.status).toBe(13);
    expect(bad.message).toBe('Invalid grpc-timeout value "soon"');
  });

  it('cancels a call the client resets', async () => {
    const req = session.request({ ...GRPC, ':path': '/t.T/Echo', 'x-name': 'reset' });
    req.on('error', () => undefined);
    req.write(msg('never'));
    await new Promise((r) => setTimeout(r, 50));
    req.close(constants.NGHTTP2_CANCEL);
    await new Promise((r) => req.on('close', r));
    for (let i = 0; i < 50 && !cancelled.includes('reset'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(cancelled).toContain('reset');
  });

  it('close() sends GOAWAY and waits for calls in progress', async () => {
    const s = new H2Server(methods, { maxReceiveMessageBytes: 1024, maxSendMessageBytes: 1024, maxConnections: 10, idleTimeoutMs: 0, connections: new Metrics(() => []).connections, log: silentLogger });
    const p = await s.listen('127.0.0.1', 0);
    const client = connect(`http://127.0.0.1:${p}`);
    const goaway = new Promise<number>((resolve) => client.once('goaway', (code: number) => resolve(code)));
    const req = client.request({ ...GRPC, ':path': '/t.T/Chat' });
    const got: Buffer[] = [];
    req.on('data', (d: Buffer) => got.push(d));
    req.write(msg('before'));
    await new Promise((r) => setTimeout(r, 50));
    const closed = s.close(2000);
    expect(await goaway).toBe(constants.NGHTTP2_NO_ERROR);
    // the open stream still works until it ends
    req.end(msg('after'));
    await new Promise((r) => req.on('close', r));
    await closed;
    expect(Buffer.concat(got).includes('after')).toBe(true);
    client.close();
  });
});
