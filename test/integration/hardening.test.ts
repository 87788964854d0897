/**
 * Issue 14's reproduced attacks, each answered with a 4xx while the server keeps serving:
 * a deeply nested feedback id, CR/LF in an echoed request id, conflicting Content-Length
 * headers, and a 100,000-dim gRPC shape whose echo filled the trailer.
 */
import { connect } from 'node:net';
import { Client, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ERROR_MESSAGE } from '../../src/core/index.js';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { counter, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';
import { rejection } from './grpc-helpers.js';

/** Sends raw bytes on a fresh connection; resolves with everything read until the server closes (or 3 s). */
function raw(port: number, bytes: Buffer): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: false });
    }, 3000);
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: true });
    });
    s.write(bytes);
  });
}

describe('hardening', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });

  afterAll(async () => {
    await t?.stop();
  });

  async function stillServes(): Promise<void> {
    expect((await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)))).status).toBe(200);
  }

  it('a feedback item with a deeply nested id is a 400, not a crash', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    for (const body of [`[{"id": ${deep}, "label": 1}]`, `{"id": ${deep}, "label": 1}`]) {
      const r = await fetch(`${t.url}/v2/feedback`, { method: 'POST', body });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(/^the feedback body nests deeper than 32 levels \(at byte \d+\); send a flatter document$/);
    }
    // shallow but not a string: the item's error, and no echo of the value as its id
    const r = await postJson(`${t.url}/v2/feedback`, [{ id: [[[1]]], label: 1 }]);
    expect(r.status).toBe(200);
    expect(r.json.results).toEqual([{ id: null, error: expect.stringMatching(/^feedback "id" is \[\[\[1\]\]\]; expected/) }]);
    await stillServes();
  });

  it('every control body has the same depth bound', async () => {
    const deep = '{"a":'.repeat(100) + '1' + '}'.repeat(100);
    const r = await fetch(`${t.url}/v2/repository/index`, { method: 'POST', body: deep });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/^the repository index body nests deeper than 32 levels/);
  });

  it('CR/LF in a request id cannot split the response: echoed headers are percent-encoded', async () => {
    const body = JSON.stringify({ ...tabularRequest(tabularRows(1)), id: 'a\r\nSet-Cookie: x=1\r\n\r\nHTTP/1.1 200 OK' });
    const r = await raw(t.server.httpPort, Buffer.from(`POST /v2/models/tabular/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
    const head = r.text.slice(0, r.text.indexOf('\r\n\r\n'));
    expect(head).toContain('\r\nx-request-id: a%0D%0ASet-Cookie: x=1%0D%0A%0D%0AHTTP/1.1 200 OK\r\n');
    expect(head.toLowerCase()).not.toContain('\r\nset-cookie');
  });

  it('Content-Length headers that disagree are a 400 with Connection: close', async () => {
    // (uWS still answers a request pipelined behind it in the same packet: issue 14 item 15)
    const body = JSON.stringify(tabularRequest(tabularRows(1)));
    const r = await raw(t.server.httpPort, Buffer.from(`POST /v2/models/tabular/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Length: 5\r\n\r\n${body}`));
    expect(r.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(r.text).toContain('\r\nConnection: close\r\n');
    expect(r.text).toContain('the request has Content-Length headers that disagree; send exactly one');
    // the same length twice is one length
    const same = await raw(t.server.httpPort, Buffer.from(`POST /v2/models/tabular/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
    expect(same.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    await stillServes();
  });

  it('a 100,000-dim gRPC shape is INVALID_ARGUMENT with a short message, not RESOURCE_EXHAUSTED', async () => {
    const c = new GrpcInferenceClient(t.grpcAddress);
    try {
      const shape = Array.from({ length: 100_000 }, () => 1n);
      const e = await rejection(c.unary('modelInfer', { modelName: 'tabular', inputs: [{ name: 'x', datatype: 'FP32', shape }], rawInputContents: [new Uint8Array(4)] }));
      expect(e.code).toBe(status.INVALID_ARGUMENT);
      expect(e.details.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE + 40);
      expect(e.details).toBe('ModelInferRequest has 100000 shape dims in inputs[0]; at most 64 are accepted');
    } finally {
      c.close();
    }
    await stillServes();
  });

  it('a ModelInferRequest over a wire limit, or malformed, is INVALID_ARGUMENT before it is decoded', async () => {
    const c = new GrpcInferenceClient(t.grpcAddress);
    try {
      const many = await rejection(c.unary('modelInfer', { modelName: 'tabular', inputs: Array.from({ length: 2000 }, () => ({})) }));
      expect(many.code).toBe(status.INVALID_ARGUMENT);
      expect(many.details).toBe('ModelInferRequest has 1025 inputs; at most 1024 are accepted');
    } finally {
      c.close();
    }
    // bytes that are no ModelInferRequest at all: grpc-js alone would say INTERNAL "Error deserializing request"
    const raw = new Client(t.grpcAddress, credentials.createInsecure());
    try {
      const e = await new Promise<ServiceError>((resolve) => {
        raw.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0a, 0xff, 0x01]), (err) => resolve(err!));
      });
      expect(e.code).toBe(status.INVALID_ARGUMENT);
      expect(e.details).toMatch(/^ModelInferRequest is malformed: /);
    } finally {
      raw.close();
    }
    await stillServes();
  });

  it('a binary BYTES tensor of more than 2^20 elements is a 400 before its elements are made', async () => {
    const count = (1 << 20) + 1;
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'in_bytes', datatype: 'BYTES', shape: [1, count], parameters: { binary_data_size: count * 4 } }] }));
    const body = Buffer.concat([header, Buffer.alloc(count * 4)]);
    const r = await fetch(`${t.url}/v2/models/dtypes/infer`, { method: 'POST', body, headers: { 'inference-header-content-length': String(header.length) } });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/shape \[1,1048577\] has 1048577 BYTES elements; at most 1048576 are accepted in one request/);
    await stillServes();
  });
});

describe('gRPC connections', () => {
  it('beyond grpc.max_connections a connection is closed on arrival and counted; idle ones are closed after idle_timeout_s', async () => {
    const t = await startTestServer({ grpc: { host: '127.0.0.1', port: 0, max_connections: 3, idle_timeout_s: 1 } });
    const metric = async (name: string) => counter(await (await fetch(`${t.url}/metrics`)).text(), name, 'door="grpc"');
    try {
      const port = t.server.grpcPort;
      const sockets = Array.from({ length: 5 }, () => connect(port, '127.0.0.1'));
      const closed = sockets.map((s) => new Promise<boolean>((resolve) => s.once('close', () => resolve(true))));
      sockets.forEach((s) => s.on('error', () => undefined));
      // two of the five are refused at once
      const early = await Promise.all(closed.map((p) => Promise.race([p, new Promise<boolean>((r) => setTimeout(() => r(false), 500))])));
      expect(early.filter((c) => c)).toHaveLength(2);
      expect(await metric('switchyard_connections_refused_total')).toBe(2);
      expect(await metric('switchyard_connections')).toBe(3);
      sockets.forEach((s) => s.destroy());
      await Promise.all(closed);
      // a real client connects, calls, and its idle connection is closed after a second
      const c = new GrpcInferenceClient(t.grpcAddress);
      try {
        expect((await c.unary('serverLive', {})).live).toBe(true);
        expect(await metric('switchyard_connections')).toBe(1);
        const deadline = Date.now() + 5000;
        while ((await metric('switchyard_connections')) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(await metric('switchyard_connections')).toBe(0);
        // and the client simply reconnects for its next call
        expect((await c.unary('serverLive', {})).live).toBe(true);
      } finally {
        c.close();
      }
    } finally {
      await t.stop();
    }
  });
});

describe('request bodies in flight', () => {
  it('beyond http.max_inflight_body_bytes a new body is a 429 before it is read; an abandoned upload gives its share back', async () => {
    const t = await startTestServer({ http: { host: '127.0.0.1', port: 0, max_body_bytes: 800_000, max_inflight_body_bytes: 1_000_000 } });
    try {
      const port = t.server.httpPort;
      // an upload that never finishes holds 700,000 bytes of the budget
      const slow = connect(port, '127.0.0.1');
      slow.on('error', () => undefined);
      slow.write('POST /v2/models/tabular/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 700000\r\n\r\n{"inputs":');
      await new Promise((r) => setTimeout(r, 200));
      const head = (n: number) => `POST /v2/models/tabular/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${n}\r\n\r\n`;
      const refused = await raw(port, Buffer.from(head(500_000) + 'x'.repeat(100)));
      expect(refused.text).toMatch(/^HTTP\/1\.1 429 Too Many Requests\r\n/);
      expect(refused.text).toContain('retry-after: 1');
      expect(refused.text).toContain('request bodies being read take 700000 of the 1000000 bytes allowed at once (http.max_inflight_body_bytes); this one needs 500000 more; retry shortly');
      // small requests still fit
      await stillServesAt(t.url);
      slow.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const body = JSON.stringify(tabularRequest(tabularRows(1))).padEnd(500_000, ' ');
      const after = await raw(port, Buffer.from(head(Buffer.byteLength(body)) + body));
      expect(after.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      await t.stop();
    }
  });
});

async function stillServesAt(url: string): Promise<void> {
  expect((await postJson(`${url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)))).status).toBe(200);
}

