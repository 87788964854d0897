/** model_control_mode explicit: only startup_models load; the rest wait, listed, for a load call. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, startTestServer, type TestServer } from '../helpers/server.js';

describe('model_control_mode: explicit', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ model_control_mode: 'explicit', startup_models: ['simple'] });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('loads only the startup models and lists the others once each, unloaded, as Triton does', async () => {
    const r = await postJson(`${t.url}/v2/repository/index`, {});
    const index = r.json as unknown as { name: string; version: string; state: string; reason: string }[];
    expect(index.map((e) => `${e.name}@${e.version}:${e.state}`)).toEqual([
      'dtypes@:UNAVAILABLE',
      'heavy@:UNAVAILABLE',
      'simple@1:READY',
      'simple_identity@:UNAVAILABLE',
      'simple_int8@:UNAVAILABLE',
      'simple_string@:UNAVAILABLE',
      'tabular@:UNAVAILABLE',
    ]);
    expect(index.find((e) => e.name === 'tabular')?.reason).toBe('not loaded');
    expect((await getJson(`${t.url}/v2/models/simple/ready`)).status).toBe(200);
  });

  it('answers 404 for a model not loaded yet, then serves it once loaded', async () => {
    const before = await getJson(`${t.url}/v2/models/tabular`);
    expect(before.status).toBe(404);
    expect(before.json.error).toMatch(/^Request for unknown model: 'tabular' has no available versions \(not loaded\); load it with POST \/v2\/repository\/models\/tabular\/load/);
    expect((await postJson(`${t.url}/v2/repository/models/tabular/load`, {})).status).toBe(200);
    const after = await getJson(`${t.url}/v2/models/tabular`);
    expect(after.status).toBe(200);
    expect(after.json.versions).toEqual(['1', '2']);
  });
});

describe('startup_models checks', () => {
  it('refuses to start when a startup model is not in the repository, naming it', async () => {
    await expect(startTestServer({ model_control_mode: 'explicit', startup_models: ['simple', 'nope'] })).rejects.toThrow(
      /^startup_models "nope" is not a model in .* \(it has dtypes, heavy, simple, simple_identity, simple_int8, simple_string, tabular\)$/,
    );
  });

  it('refuses startup_models unless the mode is explicit', async () => {
    await expect(startTestServer({ startup_models: ['simple'] })).rejects.toThrow(/startup_models.*an empty list unless model_control_mode is explicit/s);
  });

  it('loads every model with "*"', async () => {
    const t = await startTestServer({ model_control_mode: 'explicit', startup_models: ['*'] });
    try {
      expect((await getJson(`${t.url}/v2/models/tabular/ready`)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
