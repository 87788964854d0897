/**
 * model_name: the model repository is one model's folder, as KServe's storage initializer
 * lays out /mnt/models. Run through the real CLI with the KServe runtime's own config and
 * flags (deploy/k8s/kserve/servingruntime.yaml), and in-process for the version-folder layout.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/index.js';
import { BIN, ROOT, cleanEnv, serve } from '../helpers/cli.js';
import { EXAMPLE_MODELS, getJson, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';

const KSERVE_CONFIG = join(ROOT, 'deploy', 'k8s', 'kserve', 'switchyard-kserve.yaml');

const simpleRequest = (id: string) => ({
  id,
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 2) },
  ],
});

describe('a KServe /mnt/models folder with its own model.onnx', () => {
  let mnt = '';
  let child: ChildProcess | null = null;
  let url = '';
  const stdout: string[] = [];

  beforeAll(async () => {
    mnt = mkdtempSync(join(tmpdir(), 'switchyard-mnt-models-'));
    cpSync(join(EXAMPLE_MODELS, 'simple', '1', 'model.onnx'), join(mnt, 'model.onnx'));
    cpSync(join(EXAMPLE_MODELS, 'simple', 'config.yaml'), join(mnt, 'config.yaml'));
    const started = await serve(['--config', KSERVE_CONFIG, '--model-repository', mnt, '--model-name', 'style-sample', '--http-port', '0', '--grpc-port', '0'], {});
    child = started.child;
    child.stdout!.on('data', (d: Buffer) => stdout.push(d.toString()));
    url = `http://127.0.0.1:${started.port}`;
  });
  afterAll(async () => {
    if (child !== null && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(mnt, { recursive: true, force: true });
  });

  it('serves it as the named model, version 1, and nothing else', async () => {
    const meta = await getJson(`${url}/v2/models/style-sample`);
    expect(meta.status).toBe(200);
    expect(meta.json.versions).toEqual(['1']);
    expect((await fetch(`${url}/v2/models/style-sample/versions/1/ready`)).status).toBe(200);
    const r = await postJson(`${url}/v2/models/style-sample/infer`, simpleRequest('kserve-1'));
    expect(r.status).toBe(200);
    expect((r.json.outputs as { name: string; data: number[] }[]).find((o) => o.name === 'OUTPUT0')?.data.slice(0, 3)).toEqual([2, 3, 4]);
    expect((await getJson(`${url}/v2/models/simple`)).status).toBe(404);
  });

  it("its config.yaml applies (simple's max_batch_size 8)", async () => {
    const config = await getJson(`${url}/v2/models/style-sample/config`);
    expect(config.json.max_batch_size).toBe(8);
  });

  it('writes request records to stdout, as the KServe config says', async () => {
    const deadline = Date.now() + 5000;
    while (!stdout.join('').includes('kserve-1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const record = stdout.join('').split('\n').find((l) => l.includes('"kserve-1"'));
    expect(JSON.parse(record ?? '{}')).toMatchObject({ request_id: 'kserve-1', model_name: 'style-sample', model_version: '1', status: 'success' });
  });
});

describe('a single-model folder with version folders', () => {
  let t: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-one-model-'));
    cpSync(join(EXAMPLE_MODELS, 'tabular'), dir, { recursive: true });
    t = await startTestServer({ model_name: 'scorer' }, dir);
  });
  afterAll(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every version its config.yaml selects, with its labels', async () => {
    const meta = await getJson(`${t.url}/v2/models/scorer`);
    expect(meta.json.versions).toEqual(['1', '2']);
    for (const v of ['1', '2']) expect((await postJson(`${t.url}/v2/models/scorer/versions/${v}/infer`, tabularRequest(tabularRows(2)))).status).toBe(200);
    const index = await postJson(`${t.url}/v2/repository/index`, {});
    expect((index.json as unknown as { name: string }[]).map((e) => e.name)).toEqual(['scorer', 'scorer']);
  });
});

describe('drift references of a single-model folder', () => {
  let t: TestServer;
  let dir: string;
  const env = () => cleanEnv({ SWITCHYARD_MODEL_REPOSITORY: dir, SWITCHYARD_MODEL_NAME: 'scorer' });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-one-flat-'));
    cpSync(join(EXAMPLE_MODELS, 'tabular', '1', 'model.onnx'), join(dir, 'model.onnx'));
    const header = Array.from({ length: 16 }, (_, i) => `x[${i}]`).join(',');
    const rows = Array.from({ length: 200 }, (_, r) => Array.from({ length: 16 }, (_, c) => (((r * 31 + c * 7) % 97) / 97).toFixed(4)).join(','));
    writeFileSync(join(dir, 'sample.csv'), `${header}\n${rows.join('\n')}\n`);
    execFileSync(process.execPath, [BIN, 'drift', 'reference', '--model', 'scorer', '--version', '1', '--file', join(dir, 'sample.csv')], { env: env(), stdio: 'pipe' });
    t = await startTestServer({ model_name: 'scorer', drift: { interval_s: 0.2 } }, dir);
  });
  afterAll(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('`drift reference` writes the folder\'s own reference.json, and the gateway compares against it', async () => {
    expect(existsSync(join(dir, 'reference.json'))).toBe(true);
    for (let i = 0; i < 5; i++) expect((await postJson(`${t.url}/v2/models/scorer/infer`, tabularRequest(tabularRows(4)))).status).toBe(200);
    // the drift timer (every 0.2 s) publishes the reference it compares against
    const reference = /switchyard_drift_reference_columns\{model="scorer",version="1",source="file"\} 16/;
    const deadline = Date.now() + 10_000;
    let metrics = '';
    while (Date.now() < deadline && !reference.test(metrics)) {
      await new Promise((r) => setTimeout(r, 100));
      metrics = await (await fetch(`${t.url}/metrics`)).text();
    }
    expect(metrics).toMatch(reference);
  });

  it('`drift reference` refuses a model the folder is not', () => {
    expect(() => execFileSync(process.execPath, [BIN, 'drift', 'reference', '--model', 'other', '--version', '1', '--file', join(dir, 'sample.csv')], { env: env(), stdio: 'pipe' })).toThrow(/one model "scorer"/);
  });
});

describe('model_name in the config', () => {
  it('names the variable when SWITCHYARD_MODEL_NAME is not a model name', () => {
    expect(() => loadServerConfig(null, { SWITCHYARD_MODEL_NAME: '../etc' })).toThrow(/SWITCHYARD_MODEL_NAME at model_name/);
  });
});
