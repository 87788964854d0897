/**
 * The bench's generators against real servers, for one second each: wrk with the bench's
 * Lua script sends the exact body bytes (binary ones included) and headers; the framed gRPC
 * body h2load sends is answered grpc-status 0 by bench/servers/grpc-echo.ts, and the check
 * fails loudly on a call a server refuses with HTTP 200 + grpc-status ≠ 0. Where wrk or
 * h2load is not installed these fail with the Debian package to install (.ci/run installs both).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor } from '../../src/core/index.js';
import { grpcRequest } from '../../src/loadgen/encode.js';
import { startGrpcEcho } from '../../bench/lib/ceiling.js';
import { requireBinary } from '../../bench/lib/generator.js';
import { checkGrpcBody, grpcCall } from '../../bench/lib/grpc-check.js';
import { GRPC_HEADERS, grpcFrame, measureH2load } from '../../bench/lib/h2load.js';
import type { ServerProcess } from '../../bench/lib/processes.js';
import { measureWrk } from '../../bench/lib/wrk.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PATH = '/inference.GRPCInferenceService/ModelInfer';
const message = (model: string): Buffer =>
  grpcRequest({ tensors: [new Tensor('x', 'FP32', [1, 4], Float32Array.of(1, 2, 3, 4))], outputs: [], fileBody: null }, model, null);

describe('a missing generator', () => {
  it('stops with the Debian package to install', () => {
    expect(() => requireBinary('surely-not-a-binary-xyz', 'some-package')).toThrow(/surely-not-a-binary-xyz not found: apt-get install some-package/);
  });
});

describe('wrk with the bench script', () => {
  it('POSTs every byte of a binary body with the headers given', async () => {
    const seen: { body: Buffer; headers: IncomingHttpHeaders; method: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (seen.length < 5) seen.push({ body: Buffer.concat(chunks), headers: req.headers, method: req.method ?? '' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const body = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': '7' };
      const m = await measureWrk(requireBinary('wrk', 'wrk'), { url: `http://127.0.0.1:${port}/v2/models/x/infer`, body, headers }, { connections: 2, duration: 1, warmup: 0 }, 2, null);
      expect(m.result.ok2xx).toBeGreaterThan(10);
      expect(m.result.non2xx + m.result.errors).toBe(0);
      expect(m.generator).toMatchObject({ name: 'wrk -t2', threads: 2 });
      expect(seen[0].method).toBe('POST');
      expect(seen[0].body.equals(body)).toBe(true);
      expect(seen[0].headers['inference-header-content-length']).toBe('7');
      expect(seen[0].headers['content-length']).toBe('256');
    } finally {
      server.close();
    }
  });
});

describe('h2load and the gRPC check against grpc-echo', () => {
  let echo: ServerProcess;
  beforeAll(async () => {
    requireBinary('h2load', 'nghttp2-client');
    echo = await startGrpcEcho(REPO_ROOT);
  });
  afterAll(async () => {
    await echo?.stop();
  });

  it('the framed body is answered grpc-status 0 with outputs, and h2load drives it', async () => {
    const address = `127.0.0.1:${echo.port}`;
    const body = grpcFrame(message('tabular'));
    await checkGrpcBody('grpc-ceiling', address, PATH, body, GRPC_HEADERS);
    const m = await measureH2load(requireBinary('h2load', 'nghttp2-client'), { url: `http://${address}${PATH}`, body, headers: { ...GRPC_HEADERS } }, { connections: 8, duration: 1, warmup: 0 }, null);
    expect(m.result.ok2xx).toBeGreaterThan(100);
    expect(m.result.latencyMs.p99).toBeGreaterThanOrEqual(m.result.latencyMs.p50);
    expect(m.generator).toMatchObject({ name: 'h2load -t1 -c4 -m2', threads: 1 });
    expect(m.generator!.seconds).not.toBeNull();
  });

  it('fails loudly on HTTP 200 with grpc-status ≠ 0 (here UNIMPLEMENTED: a path the server does not serve)', async () => {
    const address = `127.0.0.1:${echo.port}`;
    const a = await grpcCall(address, '/inference.GRPCInferenceService/Nope', grpcFrame(message('tabular')), GRPC_HEADERS);
    expect(a.httpStatus).toBe(200);
    expect(a.grpcStatus).toBe(12);
    await expect(checkGrpcBody('grpc', address, '/inference.GRPCInferenceService/Nope', grpcFrame(message('tabular')), GRPC_HEADERS)).rejects.toThrow(
      /answered HTTP 200, grpc-status 12 .*h2load would count these answers as successes/,
    );
  });

  it('fails on a body that is not framed', async () => {
    await expect(checkGrpcBody('grpc', `127.0.0.1:${echo.port}`, PATH, message('tabular'), GRPC_HEADERS)).rejects.toThrow(/expected HTTP 200, grpc-status 0/);
  });
});
