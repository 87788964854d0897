import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelStreamInferResponse } from '../../src/gen/grpc_service_pb.js';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { startTestServer, tabularRows, type TestServer } from '../helpers/server.js';
import { floats, tabularRaw, tabularTyped, type InferInit } from './grpc-helpers.js';

let t: TestServer;
let c: GrpcInferenceClient;
beforeAll(async () => {
  t = await startTestServer();
  c = new GrpcInferenceClient(t.grpcAddress);
});
afterAll(async () => {
  c.close();
  await t.stop();
});

/** Sends `requests` on one stream, half-closes, and collects every response until the server ends the stream. */
function exchange(requests: InferInit[]): Promise<ModelStreamInferResponse[]> {
  return new Promise((resolve, reject) => {
    const call = c.stream();
    const out: ModelStreamInferResponse[] = [];
    call.on('data', (r: ModelStreamInferResponse) => out.push(r));
    call.on('end', () => resolve(out));
    call.on('error', reject);
    for (const r of requests) call.write(r);
    call.end();
  });
}

describe('ModelStreamInfer', () => {
  it('answers 1,000 requests on one stream, each response matched to its request by id', async () => {
    const n = 1000;
    const requests = Array.from({ length: n }, (_, i) => tabularRaw(tabularRows(1 + (i % 4), i), { id: `req-${i}` }));
    const responses = await exchange(requests);
    expect(responses.length).toBe(n);
    const byId = new Map(responses.map((r) => [r.inferResponse!.id, r]));
    expect(byId.size).toBe(n);
    // spot-check the answers against unary calls of the same rows
    for (const i of [0, 1, 2, 3, 499, 998, 999]) {
      const r = byId.get(`req-${i}`)!;
      expect(r.errorMessage).toBe('');
      expect(r.inferResponse!.outputs[0].shape).toEqual([BigInt(1 + (i % 4)), 3n]);
      const unary = await c.unary('modelInfer', requests[i]);
      expect(floats(r.inferResponse!.rawOutputContents[0])).toEqual(floats(unary.rawOutputContents[0]));
    }
  });

  it('answers a failing request with error_message and its id, and keeps serving the stream', async () => {
    const responses = await exchange([
      tabularTyped(tabularRows(2), { id: 'ok-1' }),
      tabularRaw(tabularRows(1), { id: 'bad-model', modelName: 'nope' }),
      { modelName: 'tabular', id: 'bad-input', inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 16n], contents: { fp32Contents: [1] } }] },
      tabularRaw(tabularRows(65), { id: 'too-big' }),
      tabularRaw(tabularRows(1), { id: 'ok-2' }),
    ]);
    const byId = new Map(responses.map((r) => [r.inferResponse!.id, r]));
    expect([...byId.keys()].sort()).toEqual(['bad-input', 'bad-model', 'ok-1', 'ok-2', 'too-big']);
    expect(byId.get('ok-1')!.errorMessage).toBe('');
    // typed contents in, raw_output_contents out, as Triton answers
    expect(byId.get('ok-1')!.inferResponse!.outputs[0].contents).toBeUndefined();
    expect(floats(byId.get('ok-1')!.inferResponse!.rawOutputContents[0]).length).toBe(6);
    expect(byId.get('ok-2')!.errorMessage).toBe('');
    expect(byId.get('bad-model')!.errorMessage).toMatch(/^Request for unknown model: 'nope' is not found/);
    expect(byId.get('bad-model')!.inferResponse!.modelName).toBe('nope');
    expect(byId.get('bad-input')!.errorMessage).toBe('input "x": shape needs 16 elements, got 1 in contents.fp32_contents');
    expect(byId.get('too-big')!.errorMessage).toMatch(/larger than max_batch_size 64/);
  });

  it('marks responses with triton_final_response when the request enables it, and only then', async () => {
    const enable = { triton_enable_empty_final_response: { parameterChoice: { case: 'boolParam' as const, value: true } } };
    const responses = await exchange([
      tabularRaw(tabularRows(1), { id: 'flagged', parameters: enable }),
      tabularRaw(tabularRows(1), { id: 'plain' }),
      tabularRaw(tabularRows(1), { id: 'flagged-error', modelName: 'nope', parameters: enable }),
    ]);
    const byId = new Map(responses.map((r) => [r.inferResponse!.id, r]));
    // one response per request (no empty response follows): switchyard's models are not decoupled
    expect(responses).toHaveLength(3);
    const final = (id: string) => byId.get(id)!.inferResponse!.parameters.triton_final_response?.parameterChoice;
    expect(final('flagged')).toEqual({ case: 'boolParam', value: true });
    expect(final('flagged-error')).toEqual({ case: 'boolParam', value: true });
    expect(final('plain')).toBeUndefined();
    // the flag is the protocol's, not a request parameter echoed back
    expect(byId.get('flagged')!.inferResponse!.parameters.triton_enable_empty_final_response).toBeUndefined();
  });

  it('ends the stream only after the requests in flight are answered when the client half-closes', async () => {
    // written and half-closed at once: the server must still answer all of them before ending
    const responses = await exchange(Array.from({ length: 50 }, (_, i) => tabularRaw(tabularRows(4, i), { id: `h-${i}` })));
    expect(responses.map((r) => r.inferResponse!.id).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `h-${i}`).sort());
  });

  it('ends an idle stream when the client half-closes', async () => {
    expect(await exchange([])).toEqual([]);
  });

  it('records stream requests in the metrics with protocol="grpc"', async () => {
    const metrics = async (): Promise<string> => (await fetch(`${t.url}/metrics`)).text();
    const before = (await metrics()).match(/switchyard_requests_total\{model="tabular",version="2",protocol="grpc",status="success"\} (\d+)/);
    await exchange([tabularRaw(tabularRows(1), { id: 'm-1' }), tabularRaw(tabularRows(1), { id: 'm-2' })]);
    const after = (await metrics()).match(/switchyard_requests_total\{model="tabular",version="2",protocol="grpc",status="success"\} (\d+)/);
    expect(Number(after![1]) - Number(before?.[1] ?? 0)).toBe(2);
  });

  it('fails the whole stream with DEADLINE_EXCEEDED when its deadline passes', async () => {
    const err = await new Promise<ServiceError>((resolve) => {
      const call = c.stream({ deadline: Date.now() + 200 });
      call.on('data', () => undefined);
      call.on('error', resolve);
      call.write(tabularRaw(tabularRows(1), { id: 'd-1' }));
      // never half-closed: the deadline ends it
    });
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
  });
});
