/**
 * Every driver against a real switchyard (in this process, on ephemeral ports): short
 * closed-loop runs succeed without errors and read the server's batch statistics; every v2
 * datatype is generated and accepted; errors are counted by the protocol's kind.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor } from '../../src/core/index.js';
import { ClosedLoop, PROTOCOLS, driverFactory, parseBenchOptions, runBench, type RawBenchOptions } from '../../src/loadgen/index.js';
import { startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';

let t: TestServer;
let dir: string;

beforeAll(async () => {
  t = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'switchyard-loadgen-'));
});

afterAll(async () => {
  await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

const options = (extra: RawBenchOptions) => parseBenchOptions({ url: t.url, grpcUrl: t.grpcAddress, warmup: '0', duration: '500ms', ...extra });

describe.each(PROTOCOLS)('the %s driver against switchyard', (protocol) => {
  it('gets successes and no errors, and reads the server-side batch statistics', async () => {
    const report = await runBench(options({ model: 'tabular', protocol, concurrency: '4' }));
    expect(report.target.switchyard).toBe(true);
    expect(report.target.model.inputs.map((i) => i.name)).toEqual(['x']);
    expect(report.target.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [1, 16] }]);
    const [step] = report.runs[0].steps;
    expect(step.failures).toBe(0);
    expect(step.errors).toEqual({});
    expect(step.successes).toBeGreaterThan(10);
    expect(step.reqPerSec).toBeGreaterThan(0);
    expect(step.latencyMs!.p50).toBeGreaterThan(0);
    expect(step.latencyMs!.p50).toBeLessThanOrEqual(step.latencyMs!.p99);
    const s = step.server!;
    expect(s.batches).toBeGreaterThan(0);
    expect(s.meanBatchSize).toBeGreaterThanOrEqual(1);
    expect(s.meanBatchSize).toBeLessThanOrEqual(4);
    expect(s.batchSizes.reduce((n, b) => n + b.batches, 0)).toBe(s.batches);
    expect(s.computeMs).toBeGreaterThan(0);
    expect(s.queueMs).not.toBeNull();
  });

  it('sends every KServe v2 datatype (the dtypes model) with a batch of 2', async () => {
    const report = await runBench(options({ model: 'dtypes', protocol, concurrency: '1', duration: '200ms', batchSize: '2' }));
    expect(report.target.inputs.map((i) => i.datatype).sort()).toEqual(['BOOL', 'BYTES', 'FP16', 'FP32', 'FP64', 'INT16', 'INT32', 'INT64', 'INT8', 'UINT16', 'UINT32', 'UINT64', 'UINT8']);
    expect(report.target.inputs.every((i) => i.shape[0] === 2)).toBe(true);
    const [step] = report.runs[0].steps;
    expect(step.errors).toEqual({});
    expect(step.successes).toBeGreaterThan(0);
  });
});

describe('request content', () => {
  it('sends a KServe v2 request body from --input-data file.json over every protocol', async () => {
    const file = join(dir, 'request.json');
    writeFileSync(file, JSON.stringify(tabularRequest(tabularRows(3))));
    for (const protocol of PROTOCOLS) {
      const report = await runBench(options({ model: 'tabular', protocol, concurrency: '2', duration: '200ms', inputData: file }));
      expect(report.target.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [3, 16] }]);
      expect(report.runs[0].steps[0].errors).toEqual({});
      expect(report.runs[0].steps[0].successes).toBeGreaterThan(0);
    }
  });

  it('runs an open loop at a fixed rate over gRPC streaming', async () => {
    const report = await runBench(options({ model: 'tabular', protocol: 'grpc-stream', rate: '200', duration: '500ms' }));
    const [step] = report.runs[0].steps;
    expect(step.requests).toBe(100);
    expect(step.successes).toBe(100);
    expect(step.latenessMs).not.toBeNull();
  });
});

describe('errors by kind', () => {
  // a model the server does not have: every request fails, each protocol says so its way
  const expected: Record<string, string> = {
    http: 'http 404',
    'http-binary': 'http 404',
    grpc: 'grpc NOT_FOUND',
    'grpc-stream': 'grpc-stream error',
    ws: 'ws SY_ERR_MODEL_NOT_FOUND',
  };
  it.each(PROTOCOLS)('%s', async (protocol) => {
    const content = { tensors: [new Tensor('x', 'FP32', [1, 16], new Float32Array(16))], outputs: [], fileBody: null };
    const driver = driverFactory(protocol, { url: t.url, grpcAddress: t.grpcAddress }, 'no-such-model', null, content)(1);
    await driver.open();
    try {
      const { recorder: r } = await new ClosedLoop(driver, 2, 200, 5000).run();
      expect(r.successes).toBe(0);
      expect([...r.errors.keys()]).toEqual([expected[protocol]]);
      expect(r.errors.get(expected[protocol])).toBe(r.requests);
      expect(r.samples.get(expected[protocol])).toContain('no-such-model');
    } finally {
      await driver.close();
    }
  });
});
