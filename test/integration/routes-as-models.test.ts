import { status } from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { getJson, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';
import { rejection, tabularRaw } from './grpc-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));

// A route is a model to every call: metadata, ready, config, stats, index, bench.
const ROUTES = {
  ab: {
    policy: 'weighted',
    targets: [
      { model: 'tabular', version: '1', weight: 50 },
      { model: 'tabular', version: '2', weight: 50 },
    ],
  },
  broken: { policy: 'weighted', targets: [{ model: 'simple', version: '1', weight: 100 }] },
};

let t: TestServer;
let c: GrpcInferenceClient;
beforeAll(async () => {
  t = await startTestServer({ routes: ROUTES });
  c = new GrpcInferenceClient(t.grpcAddress);
});
afterAll(async () => {
  c.close();
  await t.stop();
});

describe('a route answers as a model', () => {
  it('REST metadata: the targets\' common signature, and parameters naming the route and its targets', async () => {
    const md = await getJson(`${t.url}/v2/models/ab`);
    expect(md.status).toBe(200);
    expect(md.json).toMatchObject({
      name: 'ab',
      versions: [],
      platform: 'switchyard_route',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 16] }],
      parameters: { route: true, policy: 'weighted', targets: ['tabular:1', 'tabular:2'] },
    });
    const tabular = await getJson(`${t.url}/v2/models/tabular`);
    expect(md.json.outputs).toEqual(tabular.json.outputs);
  });

  it('REST ready, config and stats; a version of a route is refused as infer refuses it', async () => {
    expect((await getJson(`${t.url}/v2/models/ab/ready`)).status).toBe(200);
    const config = await getJson(`${t.url}/v2/models/ab/config`);
    expect(config.json).toMatchObject({ name: 'ab', platform: 'switchyard_route', max_batch_size: 64, input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [16] }] });
    expect(config.json.parameters).toMatchObject({ route: { string_value: 'true' }, targets: { string_value: 'tabular:1,tabular:2' } });

    const before = (await getJson(`${t.url}/v2/models/ab/stats`)).json.model_stats as { name: string; version: string; inference_count: number }[];
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ name: 'ab', version: '1' });
    for (let i = 0; i < 4; i++) expect((await postJson(`${t.url}/v2/models/ab/infer`, tabularRequest(tabularRows(2)))).status).toBe(200);
    const after = (await getJson(`${t.url}/v2/models/ab/stats`)).json.model_stats as { inference_count: number }[];
    expect(after[0].inference_count - before[0].inference_count).toBe(8);

    const versioned = await getJson(`${t.url}/v2/models/ab/versions/1`);
    expect(versioned.status).toBe(400);
    expect(versioned.json.error).toMatch(/"ab" is a route/);
  });

  it('the repository index lists routes; load and unload of a route name are refused', async () => {
    const index = (await postJson(`${t.url}/v2/repository/index`, {})).json as unknown as { name: string; version: string; state: string; reason: string }[];
    expect(index.find((e) => e.name === 'ab')).toEqual({ name: 'ab', version: '', state: 'READY', reason: 'route (weighted) to tabular:1, tabular:2' });
    const ready = (await postJson(`${t.url}/v2/repository/index`, { ready: true })).json as unknown as { name: string }[];
    expect(ready.map((e) => e.name)).toContain('ab');
    const load = await postJson(`${t.url}/v2/repository/models/ab/load`, {});
    expect(load.status).toBe(400);
    expect(load.json.error).toMatch(/"ab" is a route.*PUT\/PATCH\/DELETE \/v2\/routes\/ab/);
  });

  it('a route whose target is unloaded is not ready, and says why', async () => {
    expect((await postJson(`${t.url}/v2/repository/models/simple/unload`, {})).status).toBe(200);
    try {
      expect((await getJson(`${t.url}/v2/models/broken/ready`)).status).toBe(400);
      const md = await getJson(`${t.url}/v2/models/broken`);
      expect(md.status).toBe(503);
      expect(md.json.error).toMatch(/route "broken" has no target ready: simple:1/);
      const index = (await postJson(`${t.url}/v2/repository/index`, {})).json as unknown as { name: string; state: string }[];
      expect(index.find((e) => e.name === 'broken')?.state).toBe('UNAVAILABLE');
    } finally {
      expect((await postJson(`${t.url}/v2/repository/models/simple/load`, {})).status).toBe(200);
    }
    expect((await getJson(`${t.url}/v2/models/broken/ready`)).status).toBe(200);
  });

  it('gRPC ModelMetadata, ModelReady, ModelConfig, ModelStatistics and RepositoryIndex answer for a route', async () => {
    const md = await c.unary('modelMetadata', { name: 'ab' });
    expect(md.platform).toBe('switchyard_route');
    expect(md.inputs.map((i) => [i.name, i.datatype, i.shape])).toEqual([['x', 'FP32', [-1n, 16n]]]);
    expect((await c.unary('modelReady', { name: 'ab' })).ready).toBe(true);
    const config = await c.unary('modelConfig', { name: 'ab' });
    expect(config.config!.name).toBe('ab');
    expect(config.config!.maxBatchSize).toBe(64);
    await c.unary('modelInfer', tabularRaw(tabularRows(3), { modelName: 'ab' }));
    const stats = await c.unary('modelStatistics', { name: 'ab' });
    expect(stats.modelStats.map((s) => s.name)).toEqual(['ab']);
    expect(stats.modelStats[0].inferenceCount).toBeGreaterThanOrEqual(3n);
    const index = await c.unary('repositoryIndex', {});
    expect(index.models.find((m) => m.name === 'ab')?.state).toBe('READY');
    expect((await rejection(c.unary('modelMetadata', { name: 'ab', version: '2' }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await rejection(c.unary('repositoryModelUnload', { modelName: 'ab' }))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('switchyard bench --model <route> passes its preflight and measures the route', async () => {
    const out = `${t.dir}/bench.json`;
    const args = [BIN, 'bench', '--url', t.url, '--model', 'ab', '--duration', '500ms', '--warmup', '0s', '--concurrency', '2', '--json', out];
    // the server runs in this process: the CLI must not block its event loop
    const run = await promisify(execFile)(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).not.toMatch(/error|cannot|not found/i);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { target: { model: string }; runs: { steps: { successes: number; requests: number }[] }[] };
    const step = report.runs[0].steps[0];
    expect(step.successes).toBeGreaterThan(0);
    expect(step.successes).toBe(step.requests);
  });
});
