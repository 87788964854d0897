import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelStreamInferResponse } from '../../src/gen/grpc_service_pb.js';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { EXAMPLE_MODELS, startTestServer, tabularRows, type TestServer } from '../helpers/server.js';
import { HealthClient, ServingStatus, authorization, heavyRaw, rejection, tabularRaw, waitFor } from './grpc-helpers.js';

describe('admin rpcs, message size and stream limits', () => {
  let t: TestServer;
  let c: GrpcInferenceClient;
  beforeAll(async () => {
    t = await startTestServer({
      admin_token: 's3cret',
      grpc: { host: '127.0.0.1', port: 0, max_receive_message_bytes: 4096, max_send_message_bytes: 512, max_stream_inflight: 8 },
    });
    c = new GrpcInferenceClient(t.grpcAddress);
  });
  afterAll(async () => {
    c.close();
    await t.stop();
  });

  it('asks for the admin token on repository rpcs, in the words REST uses', async () => {
    const err = await rejection(c.unary('repositoryIndex', {}));
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.details).toMatch(/admin operations need the admin token/);
    expect((await rejection(c.unary('repositoryModelUnload', { modelName: 'dtypes' }, { metadata: authorization('wrong') }))).code).toBe(status.PERMISSION_DENIED);
    const index = await c.unary('repositoryIndex', {}, { metadata: authorization('s3cret') });
    expect(index.models.map((m) => m.name)).toContain('tabular');
  });

  it('unloads and loads a model', async () => {
    const admin = { metadata: authorization('s3cret') };
    await c.unary('repositoryModelUnload', { modelName: 'dtypes' }, admin);
    expect((await c.unary('modelReady', { name: 'dtypes' })).ready).toBe(false);
    const index = await c.unary('repositoryIndex', {}, admin);
    expect(index.models.find((m) => m.name === 'dtypes')?.state).toBe('UNAVAILABLE');
    await c.unary('repositoryModelLoad', { modelName: 'dtypes' }, admin);
    expect((await c.unary('modelReady', { name: 'dtypes' })).ready).toBe(true);
    const override = (config: string) => ({ modelName: 'simple', parameters: { config: { parameterChoice: { case: 'stringParam' as const, value: config } } } });
    await c.unary('repositoryModelLoad', override('{"max_batch_size": "4"}'), admin);
    expect((await c.unary('modelConfig', { name: 'simple' })).config!.maxBatchSize).toBe(4);
    const bad = await rejection(c.unary('repositoryModelLoad', override('{"max_batch_size": "many"}'), admin));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/failed to load "simple": the config override "max_batch_size" must be an integer, got "many"/);
    expect((await rejection(c.unary('repositoryModelLoad', override('garbage{'), admin))).details).toMatch(/is not valid JSON/);
    // a load without an override reads config.yaml again
    await c.unary('repositoryModelLoad', { modelName: 'simple' }, admin);
    expect((await c.unary('modelConfig', { name: 'simple' })).config!.maxBatchSize).toBe(8);
    expect((await rejection(c.unary('repositoryModelLoad', { modelName: '../etc' }, admin))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('refuses a message over grpc.max_receive_message_bytes with RESOURCE_EXHAUSTED, and keeps serving', async () => {
    const err = await rejection(c.unary('modelInfer', tabularRaw(tabularRows(64))));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/larger than max/);
    expect((await c.unary('modelInfer', tabularRaw(tabularRows(2)))).outputs.length).toBe(2);
  });

  it('holds at most grpc.max_stream_inflight requests of a stream, and answers them all', async () => {
    const served = t.server.gateway.repository.resolve('tabular', null);
    let most = 0;
    const ids = await new Promise<string[]>((resolve, reject) => {
      const call = c.stream();
      const seen: string[] = [];
      call.on('data', (r: ModelStreamInferResponse) => {
        most = Math.max(most, served.scheduler.queued);
        seen.push(r.inferResponse!.id);
      });
      call.on('end', () => resolve(seen));
      call.on('error', reject);
      for (let i = 0; i < 300; i++) call.write(tabularRaw(tabularRows(1, i), { id: `l-${i}` }));
      call.end();
    });
    expect(ids.sort()).toEqual(Array.from({ length: 300 }, (_, i) => `l-${i}`).sort());
    expect(most).toBeLessThanOrEqual(8);
  });

  it('fails a response over grpc.max_send_message_bytes with RESOURCE_EXHAUSTED', async () => {
    // 60 rows fit in the request (3.8 KB) but their answer (1.2 KB) does not fit in 512 bytes
    const err = await rejection(c.unary('modelInfer', tabularRaw(tabularRows(60))));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/larger than max/);
    expect((await c.unary('serverLive', {})).live).toBe(true);
  });
});

/** 'ok', or the status code the call failed with */
const settle = (p: Promise<unknown>): Promise<'ok' | number> =>
  p.then(
    () => 'ok' as const,
    (e: unknown) => (e as ServiceError).code,
  );

describe('draining', () => {
  let t: TestServer;
  let repo: string;
  beforeAll(async () => {
    repo = mkdtempSync(join(tmpdir(), 'switchyard-grpc-drain-'));
    cpSync(join(EXAMPLE_MODELS, 'heavy'), join(repo, 'heavy'), { recursive: true });
    writeFileSync(join(repo, 'heavy', 'config.yaml'), 'max_batch_size: 1\ninstance_count: 1\nintra_op_threads: 1\n');
    t = await startTestServer({}, repo);
  });
  afterAll(async () => {
    await t.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  it('turns health NOT_SERVING at once, refuses new requests with UNAVAILABLE and answers the queued ones', async () => {
    const c = new GrpcInferenceClient(t.grpcAddress);
    const h = new HealthClient(t.grpcAddress);
    const seen: ServingStatus[] = [];
    const cancelWatch = h.watch('inference.GRPCInferenceService', (s) => seen.push(s));
    await waitFor(() => seen.length === 1, 'the first Watch status');
    // a queue of work that takes a while to drain
    const sent = Array.from({ length: 400 }, () => settle(c.unary('modelInfer', heavyRaw())));
    const served = t.server.gateway.repository.resolve('heavy', null);
    await waitFor(() => served.scheduler.queued > 150, 'requests to queue up');
    const waiting = served.scheduler.queued + served.scheduler.inflight;
    const stopped = t.server.stop();
    // asked at once, while the queue drains
    const [health, ready, refused] = await Promise.all([h.check(''), c.unary('serverReady', {}), rejection(c.unary('modelInfer', heavyRaw()))]);

    expect(health.status).toBe(ServingStatus.NOT_SERVING);
    expect(ready.ready).toBe(false);
    expect(refused.code).toBe(status.UNAVAILABLE);
    expect(refused.details).toMatch(/server is shutting down/);
    expect(refused.metadata.get('switchyard-error-code')).toEqual(['SY_ERR_DRAINING']);
    await waitFor(() => seen.length === 2, 'the NOT_SERVING status on Watch');
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);

    // everything queued before the stop still gets its answer; what was still on its way is refused
    const outcomes = await Promise.all(sent);
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThanOrEqual(waiting);
    expect(outcomes.every((o) => o === 'ok' || o === status.UNAVAILABLE)).toBe(true);
    await stopped;
    cancelWatch();
    h.close();
    c.close();
  });
});
