import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { EXAMPLE_MODELS, counter, histogram, startTestServer, type TestServer } from '../helpers/server.js';
import { heavyRaw, waitFor, type InferInit } from './grpc-helpers.js';

let t: TestServer;
let repo: string;
let c: GrpcInferenceClient;

/** heavy, one request per batch, one instance on one thread: requests queue up behind each other */
beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), 'switchyard-grpc-queue-'));
  cpSync(join(EXAMPLE_MODELS, 'heavy'), join(repo, 'heavy'), { recursive: true });
  cpSync(join(EXAMPLE_MODELS, 'heavy'), join(repo, 'small_queue'), { recursive: true });
  writeFileSync(join(repo, 'heavy', 'config.yaml'), 'max_batch_size: 1\ninstance_count: 1\nintra_op_threads: 1\n');
  // 64 rows a request and a batch: each run takes long enough that cancellations always arrive
  // while most of the queue still waits
  cpSync(join(EXAMPLE_MODELS, 'heavy'), join(repo, 'slow'), { recursive: true });
  writeFileSync(join(repo, 'slow', 'config.yaml'), 'max_batch_size: 64\ninstance_count: 1\nintra_op_threads: 1\n');
  writeFileSync(join(repo, 'small_queue', 'config.yaml'), 'max_batch_size: 1\ninstance_count: 1\nintra_op_threads: 1\ndynamic_batching: { max_queue_size: 4 }\n');
  // no request log, label join or drift: the queue must fill faster than the gateway's own work drains it
  t = await startTestServer({ request_log: { sinks: [] }, evaluation: { enabled: false }, drift: { enabled: false } }, repo);
  c = new GrpcInferenceClient(t.grpcAddress);
});
afterAll(async () => {
  c.close();
  await t.stop();
  rmSync(repo, { recursive: true, force: true });
});

const metrics = async (): Promise<string> => (await fetch(`${t.url}/metrics`)).text();
/** rows a model has run */
const rowsRun = async (model = 'heavy'): Promise<number> => histogram(await metrics(), 'switchyard_batch_size', `model="${model}"`).sum;

async function queueEmpty(model = 'heavy'): Promise<void> {
  const served = t.server.gateway.repository.resolve(model, null);
  await waitFor(() => served.scheduler.queued === 0 && served.scheduler.inflight === 0, `the ${model} queue to empty`);
}

const SLOW_ROWS = 64;
const slowRequest = (id = ''): InferInit => ({
  id,
  modelName: 'slow',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [BigInt(SLOW_ROWS), 512n] }],
  rawInputContents: [new Uint8Array(new Float32Array(SLOW_ROWS * 512).fill(0.01).buffer)],
});

type Outcome = { ok: true } | { ok: false; err: ServiceError };
const settle = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(
    () => ({ ok: true }) as const,
    (err: unknown) => ({ ok: false, err: err as ServiceError }) as const,
  );

describe('queueing over gRPC', () => {
  it('answers RESOURCE_EXHAUSTED with retry-after when the queue is full, and serves the rest', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, () => settle(c.unary('modelInfer', heavyRaw({ modelName: 'small_queue' })))));
    const full = results.flatMap((r) => (r.ok ? [] : [r.err]));
    const ok = results.filter((r) => r.ok);
    expect(full.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThan(0);
    expect(full.every((e) => e.code === status.RESOURCE_EXHAUSTED)).toBe(true);
    expect(full[0].details).toMatch(/queue is full \(max_queue_size 4\)/);
    expect(full[0].metadata.get('retry-after')).toEqual(['1']);
  });

  it('answers DEADLINE_EXCEEDED when the deadline passes while queued, and never runs those requests', async () => {
    const before = await rowsRun();
    const deadline = Date.now() + 50;
    const results = await Promise.all(Array.from({ length: 500 }, () => settle(c.unary('modelInfer', heavyRaw(), { deadline }))));
    const expired = results.flatMap((r) => (r.ok ? [] : [r.err]));
    const ok = results.filter((r) => r.ok).length;
    expect(expired.length).toBeGreaterThan(0);
    expect(expired.every((e) => e.code === status.DEADLINE_EXCEEDED)).toBe(true);
    await queueEmpty();
    // the model ran the answered requests, plus at most the one running when the deadline passed
    const ran = (await rowsRun()) - before;
    expect(ran).toBeGreaterThanOrEqual(ok);
    expect(ran).toBeLessThanOrEqual(ok + 1);
  });

  it('takes a cancelled call out of the queue; it never runs', async () => {
    const cancelledBefore = counter(await metrics(), 'switchyard_requests_total', 'protocol="grpc",status="SY_ERR_CANCELLED"');
    const before = await rowsRun('slow');
    const served = t.server.gateway.repository.resolve('slow', null);
    const controllers = Array.from({ length: 60 }, () => new AbortController());
    const pending = controllers.map((ac) => settle(c.unary('modelInfer', slowRequest(), { signal: ac.signal })));
    await waitFor(() => served.scheduler.queued >= 40, 'requests to queue up');
    const queuedAtCancel = served.scheduler.queued;
    for (const ac of controllers) ac.abort();
    const outcomes = await Promise.all(pending);
    const cancelled = outcomes.flatMap((o) => (o.ok ? [] : [o.err]));
    const ok = outcomes.length - cancelled.length;
    expect(cancelled.length).toBeGreaterThanOrEqual(queuedAtCancel);
    expect(cancelled.every((e) => e.code === status.CANCELLED)).toBe(true);
    await queueEmpty('slow');
    // the model ran the answered requests and the few dispatched before the cancellations
    // reached the server (a few ms); the bulk of the queue left it without running
    const ran = ((await rowsRun('slow')) - before) / SLOW_ROWS;
    expect(ran).toBeGreaterThanOrEqual(ok);
    expect(ran - ok).toBeLessThan(queuedAtCancel / 2);
    const cancelledAfter = counter(await metrics(), 'switchyard_requests_total', 'protocol="grpc",status="SY_ERR_CANCELLED"');
    expect(cancelledAfter - cancelledBefore).toBeGreaterThan(queuedAtCancel / 2);
  });

  it('takes the requests of a cancelled stream out of the queue', async () => {
    const before = await rowsRun('slow');
    const served = t.server.gateway.repository.resolve('slow', null);
    const ac = new AbortController();
    const call = c.stream({ signal: ac.signal });
    const ended = new Promise<ServiceError>((resolve) => call.on('error', resolve));
    let answered = 0;
    call.on('data', () => answered++);
    for (let i = 0; i < 100; i++) call.write(slowRequest(`s-${i}`));
    await waitFor(() => served.scheduler.queued >= 20, 'stream requests to queue up');
    const queuedAtCancel = served.scheduler.queued;
    const answeredAtCancel = answered;
    ac.abort();
    expect((await ended).code).toBe(status.CANCELLED);
    await queueEmpty('slow');
    const ran = ((await rowsRun('slow')) - before) / SLOW_ROWS;
    // the ones answered before the cancel, and the few dispatched before it reached the server
    expect(ran).toBeGreaterThanOrEqual(answeredAtCancel);
    expect(ran - answeredAtCancel).toBeLessThan(queuedAtCancel / 2);
  });
});
