import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctor } from '../../src/cli/doctor.js';
import { EXAMPLE_MODELS, getJson, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';

const TOKEN = 's3cret-token';
let t: TestServer;
let repo: string;
let outside: string;

beforeAll(async () => {
  outside = mkdtempSync(join(tmpdir(), 'switchyard-outside-'));
  cpSync(join(EXAMPLE_MODELS, 'tabular'), join(outside, 'tabular'), { recursive: true });
  repo = mkdtempSync(join(tmpdir(), 'switchyard-repo-'));
  cpSync(join(EXAMPLE_MODELS, 'tabular'), join(repo, 'tabular'), { recursive: true });
  // a corrupt model: the server must stay up and serve the rest
  mkdirSync(join(repo, 'broken', '1'), { recursive: true });
  writeFileSync(join(repo, 'broken', '1', 'model.onnx'), 'this is not an onnx model');
  // GPU providers first: the first one that loads here is used
  cpSync(join(EXAMPLE_MODELS, 'tabular', '1'), join(repo, 'gpu_first', '1'), { recursive: true });
  writeFileSync(join(repo, 'gpu_first', 'config.yaml'), 'execution_providers: [tensorrt, cuda, cpu]\n');
  // a symlink leading out of the repository is never followed
  symlinkSync(join(outside, 'tabular'), join(repo, 'escape'));
  t = await startTestServer({ admin_token: TOKEN }, repo);
});
afterAll(async () => {
  await t.stop();
  rmSync(repo, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${TOKEN}` };

describe('execution providers', () => {
  it('uses the first configured provider that loads here and says which in metadata and metrics', async () => {
    const available = (await doctor()).providers.filter((p) => p.available).map((p) => p.name);
    const expected = ['tensorrt', 'cuda', 'cpu'].find((p) => available.includes(p));
    const meta = await getJson(`${t.url}/v2/models/gpu_first`);
    expect((meta.json.parameters as { execution_provider: string }).execution_provider).toBe(expected);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toContain(`switchyard_model_execution_provider{model="gpu_first",version="1",provider="${expected}"} 1`);
    expect((await postJson(`${t.url}/v2/models/gpu_first/infer`, tabularRequest(tabularRows(1)))).status).toBe(200);
  });
});

describe('repository extension', () => {
  it('needs the admin token', async () => {
    const none = await postJson(`${t.url}/v2/repository/index`, {});
    expect(none.status).toBe(401);
    expect(none.json.error).toMatch(/admin token/);
    const wrong = await postJson(`${t.url}/v2/repository/index`, {}, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(403);
    expect((await postJson(`${t.url}/v2/repository/models/tabular/unload`, {})).status).toBe(401);
  });

  it('lists every model with its state; a corrupt model is UNAVAILABLE with the reason', async () => {
    const r = await postJson(`${t.url}/v2/repository/index`, {}, auth);
    expect(r.status).toBe(200);
    const index = r.json as unknown as { name: string; version: string; state: string; reason: string }[];
    expect(index.filter((e) => e.name === 'tabular').map((e) => [e.version, e.state])).toEqual([
      ['1', 'READY'],
      ['2', 'READY'],
    ]);
    const broken = index.find((e) => e.name === 'broken');
    expect(broken).toMatchObject({ version: '1', state: 'UNAVAILABLE' });
    expect(broken!.reason.length).toBeGreaterThan(0);
    expect(broken!.reason).not.toContain(repo); // no internal paths
    const escape = index.find((e) => e.name === 'escape');
    expect(escape?.state).toBe('UNAVAILABLE');
    const ready = await postJson(`${t.url}/v2/repository/index`, { ready: true }, auth);
    expect((ready.json as unknown as { name: string; state: string }[]).every((e) => e.state === 'READY')).toBe(true);
    expect((ready.json as unknown as { name: string }[]).some((e) => e.name === 'broken')).toBe(false);
    expect((await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)))).status).toBe(200);
    // a model that failed to load serves nothing: 404 with the reason, not a 503 clients would retry
    const broken404 = await postJson(`${t.url}/v2/models/broken/infer`, tabularRequest(tabularRows(1)));
    expect(broken404.status).toBe(404);
    expect(broken404.json.error).toMatch(/^Request for unknown model: 'broken' has no available versions \(version 1: /);
  });

  it('unloads and loads a model', async () => {
    const u = await postJson(`${t.url}/v2/repository/models/tabular/unload`, {}, auth);
    expect(u.status).toBe(200);
    const gone = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)));
    expect(gone.status).toBe(404);
    expect(gone.json.error).toMatch(/^Request for unknown model: 'tabular' has no available versions \(unloaded\); load it with POST/);
    expect((await getJson(`${t.url}/v2/models/tabular/ready`)).status).toBe(400);
    const l = await postJson(`${t.url}/v2/repository/models/tabular/load`, {}, auth);
    expect(l.status).toBe(200);
    expect((await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)))).status).toBe(200);
  });

  it('answers a failed load with 400 and the reason, and keeps serving', async () => {
    const r = await postJson(`${t.url}/v2/repository/models/broken/load`, {}, auth);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/failed to load "broken"/);
    const missing = await postJson(`${t.url}/v2/repository/models/nothere/load`, {}, auth);
    expect(missing.status).toBe(400);
    const esc = await postJson(`${t.url}/v2/repository/models/escape/load`, {}, auth);
    expect(esc.status).toBe(400);
    expect((await postJson(`${t.url}/v2/models/escape/infer`, tabularRequest(tabularRows(1)))).status).not.toBe(200);
    expect((await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)))).status).toBe(200);
  });

  it('refuses names that leave the root, encoded or not', async () => {
    // ('..' and '%2e%2e' are normalised away by fetch(); rest-api.test.ts sends them raw)
    for (const name of ['..%2f..%2ftmp', '%2ftmp', 'a%2f..', '.hidden']) {
      const r = await postJson(`${t.url}/v2/repository/models/${name}/load`, {}, auth);
      expect(r.status, name).toBe(400);
      expect(r.json.error, name).toMatch(/invalid model name/);
    }
  });

  it('loads a new version while requests flow, failing none of them', async () => {
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const versions = new Set<string>();
    const client = async (): Promise<void> => {
      while (!stop) {
        const r = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1 + (ok % 4))));
        if (r.status === 200) {
          ok++;
          versions.add(r.json.model_version as string);
        } else failures.push(`${r.status} ${JSON.stringify(r.json)}`);
      }
    };
    const clients = Array.from({ length: 16 }, () => client());
    await new Promise((r) => setTimeout(r, 200));
    // add version 3 and reload: requests move from 2 to 3 without a failure
    cpSync(join(repo, 'tabular', '1'), join(repo, 'tabular', '3'), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const l = await postJson(`${t.url}/v2/repository/models/tabular/load`, {}, auth);
      expect(l.status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    expect(versions).toContain('3');
  });
});

describe('load with a configuration override (Triton load_model(name, config=...))', () => {
  const load = (name: string, body: unknown) => postJson(`${t.url}/v2/repository/models/${name}/load`, body, auth);
  const config = async () => (await getJson(`${t.url}/v2/models/tabular/config`)).json;

  it('applies a Triton-style override for that load; a load without one reads config.yaml again', async () => {
    const before = await config();
    const r = await load('tabular', { parameters: { config: JSON.stringify({ max_batch_size: '16', dynamic_batching: { max_queue_delay_microseconds: 250 }, instance_group: [{ count: 2, kind: 'KIND_CPU' }] }) } });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const after = await config();
    expect(after.max_batch_size).toBe(16);
    expect((after.dynamic_batching as { max_queue_delay_microseconds: number }).max_queue_delay_microseconds).toBe(250);
    expect((after.instance_group as { count: number }[])[0].count).toBe(2);
    expect((await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(16)))).status).toBe(200);
    expect((await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(17)))).status).toBe(400);
    expect((await load('tabular', {})).status).toBe(200);
    expect((await config()).max_batch_size).toBe(before.max_batch_size);
  });

  it('refuses a bad override with 400 naming what is wrong, and keeps serving as before', async () => {
    const cases: [string, RegExp][] = [
      ['garbage{', /failed to load "tabular": the config override is not valid JSON/],
      ['[1]', /must be a JSON object/],
      ['{"max_batch_size": "many"}', /"max_batch_size" must be an integer, got "many"/],
      ['{"max_batch_size": -1}', /max_batch_size/],
      ['{"sequence_batching": {}}', /has key "sequence_batching", which switchyard does not support/],
      ['{"name": "other"}', /"name": "other"; it must be the model's name "tabular"/],
      ['{"instance_group": [{"kind": "KIND_GPU"}]}', /KIND_GPU.*execution_providers/],
    ];
    for (const [text, message] of cases) {
      const r = await load('tabular', { parameters: { config: text } });
      expect(r.status, text).toBe(400);
      expect(r.json.error, text).toMatch(message);
    }
    expect((await load('tabular', { parameters: { 'file:1/model.onnx': 'AAAA' } })).json.error).toMatch(/sending model files with a load request is not supported/);
    expect((await load('tabular', { parameters: { config: 16 } })).json.error).toMatch(/must be a string/);
    expect((await load('tabular', { what: 1 })).json.error).toMatch(/unknown field "what"/);
    expect((await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)))).status).toBe(200);
  });

  it('leaves no phantom model after a failed load of a name never served', async () => {
    expect((await load('never_here', {})).status).toBe(400);
    const index = (await postJson(`${t.url}/v2/repository/index`, {}, auth)).json as unknown as { name: string }[];
    expect(index.map((e) => e.name)).not.toContain('never_here');
    const infer = await postJson(`${t.url}/v2/models/never_here/infer`, tabularRequest(tabularRows(1)));
    expect(infer.status).toBe(404);
    expect(infer.json.error).toMatch(/^Request for unknown model: 'never_here' is not found/);
    expect((await getJson(`${t.url}/v2/models/never_here/ready`)).status).toBe(404);
  });
});
