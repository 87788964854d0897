import { Metadata } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { counter, getJson, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';
import { StreamClient } from '../helpers/stream-client.js';

const ROUTES = {
  ab: {
    policy: 'weighted',
    targets: [
      { model: 'tabular', version: '1', weight: 50 },
      { model: 'tabular', version: '2', weight: 50 },
    ],
    sticky: { header: 'x-user-id' },
  },
  mirrored: {
    policy: 'weighted',
    targets: [{ model: 'tabular', version: '1', weight: 100 }],
    shadow: [{ model: 'tabular', version: '2', percent: 100 }],
  },
  arms: {
    policy: 'bandit',
    algorithm: 'thompson',
    reward: 'bernoulli',
    targets: [
      { model: 'tabular', version: '1' },
      { model: 'tabular', version: '2' },
    ],
  },
};

async function request(url: string, route: string, headers: Record<string, string> = {}) {
  return postJson(`${url}/v2/models/${route}/infer`, tabularRequest(tabularRows(1)), headers);
}

async function send(url: string, method: string, pathName: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${pathName}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('routes through every door', () => {
  let t: TestServer;
  let logFile: string;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-routes-'));
    dirs.push(dir);
    logFile = path.join(dir, 'requests.jsonl');
    t = await startTestServer({ routes: ROUTES, request_log: { sinks: [{ type: 'file', path: logFile }] } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('REST: the response names the target that served it, the route, and the request id', async () => {
    const r = await postJson(`${t.url}/v2/models/ab/infer`, tabularRequest(tabularRows(2)), { 'x-request-id': 'req-ab-1' });
    expect(r.status).toBe(200);
    expect(r.json.model_name).toBe('tabular');
    expect(['1', '2']).toContain(r.json.model_version);
    expect(r.json.parameters).toMatchObject({ route: 'ab' });
    expect(r.json.id).toBe('req-ab-1');
    expect(r.headers.get('x-request-id')).toBe('req-ab-1');
    expect(r.headers.get('x-switchyard-target')).toBe(`tabular:${r.json.model_version as string}`);
  });

  it('sticky: one user always lands on one target, and both targets get users', async () => {
    const seen = new Map<string, string>();
    for (let u = 0; u < 40; u++) {
      for (let k = 0; k < 3; k++) {
        const r = await request(t.url, 'ab', { 'x-user-id': `user-${u}` });
        const v = r.json.model_version as string;
        if (seen.has(`user-${u}`)) expect(v).toBe(seen.get(`user-${u}`));
        seen.set(`user-${u}`, v);
      }
    }
    expect(new Set(seen.values())).toEqual(new Set(['1', '2']));
  });

  it('gRPC and WebSocket: the same user lands on the same target as over REST', async () => {
    const users = ['alice', 'bob', 'carol', 'dave'];
    const rest = await Promise.all(users.map((u) => request(t.url, 'ab', { 'x-user-id': u }).then((r) => r.json.model_version)));
    const c = new GrpcInferenceClient(t.grpcAddress);
    const ws = await StreamClient.open(t.url);
    try {
      for (let i = 0; i < users.length; i++) {
        const md = new Metadata();
        md.set('x-user-id', users[i]);
        const g = await c.unary('modelInfer', { modelName: 'ab', inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 16n], contents: { fp32Contents: tabularRows(1)[0] } }] }, { metadata: md });
        expect(g.modelVersion).toBe(rest[i]);
        expect(g.parameters.route?.parameterChoice).toEqual({ case: 'stringParam', value: 'ab' });
        ws.send({ id: `w${i}`, model_name: 'ab', parameters: { 'x-user-id': users[i] }, ...tabularRequest(tabularRows(1)) });
        const [m] = await ws.take(1);
        expect(m.json).toMatchObject({ id: `w${i}`, model_version: rest[i], parameters: { route: 'ab' } });
      }
    } finally {
      c.close();
      ws.ws.close();
    }
  });

  it('the pin header forces a target; a version on a route is refused', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await request(t.url, 'ab', { 'x-switchyard-target': 'tabular:1', 'x-user-id': 'someone' });
      expect(r.json.model_version).toBe('1');
    }
    // only the route's own targets can be pinned: not an unknown version, not another model
    for (const pin of ['tabular:9', 'heavy:1', 'dtypes']) {
      const bad = await request(t.url, 'ab', { 'x-switchyard-target': pin });
      expect(bad.status, pin).toBe(400);
      expect(bad.json.error, pin).toMatch(/is not a target of route "ab"; pin one of its targets/);
    }
    const versioned = await postJson(`${t.url}/v2/models/ab/versions/1/infer`, tabularRequest(tabularRows(1)));
    expect(versioned.status).toBe(400);
    expect(versioned.json.error).toMatch(/is a route/);
  });

  it('shadow: every request is mirrored to v2, compared and logged, and the client sees only v1', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await request(t.url, 'mirrored');
      expect(r.json.model_version).toBe('1');
      ids.push(r.json.id as string);
    }
    let compared = 0;
    for (let i = 0; i < 100 && compared < 10; i++) {
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      compared = counter(metrics, 'switchyard_route_shadow_requests_total', 'outcome="compared"');
      if (compared < 10) await new Promise((r) => setTimeout(r, 20));
    }
    expect(compared).toBe(10);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(counter(metrics, 'switchyard_route_shadow_argmax_total', 'route="mirrored"')).toBe(10);
  });

  it('bandit feedback: credited once, duplicates and unknown ids answered, bad rewards refused', async () => {
    const r = await request(t.url, 'arms');
    expect(r.status).toBe(200);
    const id = r.json.id as string;
    expect((await postJson(`${t.url}/v2/feedback`, { id, reward: 1 })).json).toEqual({ id, label: null, reward: 'credited' });
    expect((await postJson(`${t.url}/v2/feedback`, { id, reward: 1 })).json.reward).toBe('duplicate');
    const unknown = await postJson(`${t.url}/v2/feedback`, { id: 'never', reward: 1 });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatch(/awaits feedback/);
    const other = (await request(t.url, 'arms')).json.id as string;
    const bad = await postJson(`${t.url}/v2/feedback`, { id: other, reward: 2 });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/bernoulli/);
    const view = await getJson(`${t.url}/admin/routes/arms`);
    expect(JSON.stringify(view.json)).toMatch(/"pulls"|"n"|"rewards"/);
  });
});

describe('admin API', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ routes: { ab: ROUTES.ab }, admin_token: 's3cret' });
  });
  afterAll(async () => {
    await t.stop();
  });
  const auth = { authorization: 'Bearer s3cret', 'x-switchyard-actor': 'release-bot' };

  it('needs the token: missing 401, wrong 403', async () => {
    expect((await send(t.url, 'GET', '/admin/routes')).status).toBe(401);
    expect((await send(t.url, 'GET', '/admin/routes', undefined, { authorization: 'Bearer nope' })).status).toBe(403);
    expect((await send(t.url, 'GET', '/admin/routes', undefined, auth)).status).toBe(200);
  });

  it('creates, switches blue/green, rejects bad updates without changing the route, deletes, and audits', async () => {
    const spec = { policy: 'weighted', targets: [{ model: 'tabular', version: '1', weight: 100 }, { model: 'tabular', version: '2', weight: 0 }] };
    const put = await send(t.url, 'PUT', '/admin/routes/bluegreen', spec, auth);
    expect(put.status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await request(t.url, 'bluegreen')).json.model_version).toBe('1');

    const before = (await send(t.url, 'GET', '/admin/routes/bluegreen', undefined, auth)).json;
    for (const bad of [
      { policy: 'weighted', targets: [{ model: 'tabular', version: '1', weight: -1 }] },
      { policy: 'weighted', targets: [{ model: 'tabular', version: '1', weight: 0 }] },
      { policy: 'weighted', targets: [{ model: 'nope', version: '1', weight: 1 }] },
      { policy: 'weighted', targets: [{ model: 'tabular', version: '7', weight: 1 }] },
      { policy: 'magic', targets: [] },
      { ...spec, colour: 'blue' },
    ]) {
      const r = await send(t.url, 'PUT', '/admin/routes/bluegreen', bad, auth);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.json.error).toMatch(/bluegreen/);
    }
    expect((await send(t.url, 'GET', '/admin/routes/bluegreen', undefined, auth)).json.spec).toEqual(before.spec);

    const patched = await send(t.url, 'PATCH', '/admin/routes/bluegreen', { weights: { 'tabular:1': 0, 'tabular:2': 100 } }, auth);
    expect(patched.status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await request(t.url, 'bluegreen')).json.model_version).toBe('2');

    expect((await send(t.url, 'POST', '/admin/routes/bluegreen/launch', undefined, auth)).status).toBe(404);
    expect((await send(t.url, 'DELETE', '/admin/routes/bluegreen', undefined, auth)).status).toBe(204);
    expect((await request(t.url, 'bluegreen')).status).toBe(404);

    const audit = await send(t.url, 'GET', '/admin/audit?limit=10', undefined, auth);
    const entries = audit.json.entries as { actor: string; action: string; route: string }[];
    expect(entries.filter((e) => e.route === 'bluegreen').map((e) => e.actor)).toEqual(expect.arrayContaining(['release-bot']));
    expect(entries.filter((e) => e.route === 'bluegreen').length).toBeGreaterThanOrEqual(3);
  });

  it('If-Match: a change against the revision the caller read applies; against a stale one it is a 409 with the route as it is now', async () => {
    const spec = { policy: 'weighted', targets: [{ model: 'tabular', version: '1', weight: 100 }, { model: 'tabular', version: '2', weight: 0 }] };
    const created = await send(t.url, 'PUT', '/admin/routes/guarded', spec, { ...auth, 'if-match': '"0"' });
    expect(created.status).toBe(200);
    const rev = created.json.revision as number;
    expect((await send(t.url, 'PUT', '/admin/routes/guarded', spec, { ...auth, 'if-match': '"0"' })).status).toBe(409);
    const moved = await send(t.url, 'PATCH', '/admin/routes/guarded', { weights: { 'tabular:1': 50, 'tabular:2': 50 } }, { ...auth, 'if-match': `"${rev}"` });
    expect(moved.status).toBe(200);
    // a stale page acts on what it saw
    const stale = await send(t.url, 'PATCH', '/admin/routes/guarded', { weights: { 'tabular:1': 0, 'tabular:2': 100 } }, { ...auth, 'if-match': `"${rev}"` });
    expect(stale.status).toBe(409);
    expect(stale.json.code).toBe('SY_ERR_CONFLICT');
    expect(stale.json.error).toMatch(/changed meanwhile/);
    expect(stale.json.current).toEqual((await send(t.url, 'GET', '/admin/routes/guarded', undefined, auth)).json);
    expect((stale.json.current as { revision: number }).revision).toBe(moved.json.revision);
    expect((await send(t.url, 'DELETE', '/admin/routes/guarded', undefined, { ...auth, 'if-match': `"${rev}"` })).status).toBe(409);
    const bad = await send(t.url, 'DELETE', '/admin/routes/guarded', undefined, { ...auth, 'if-match': 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/If-Match "yesterday" is not a route revision/);
    expect((await send(t.url, 'DELETE', '/admin/routes/guarded', undefined, { ...auth, 'if-match': String(moved.json.revision) })).status).toBe(204);
  });
});

describe('two gateways sharing one Redis', () => {
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    redis = await startRedis();
    a = await startTestServer({ redis: { url: redis.url } });
    b = await startTestServer({ redis: { url: redis.url } });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  it('a route changed on one is served by the other within a second', async () => {
    const spec = { policy: 'weighted', targets: [{ model: 'tabular', version: '2', weight: 100 }] };
    expect((await send(a.url, 'PUT', '/admin/routes/shared', spec)).status).toBe(200);
    const started = Date.now();
    let version: unknown = null;
    while (Date.now() - started < 1000) {
      const r = await request(b.url, 'shared');
      if (r.status === 200) {
        version = r.json.model_version;
        break;
      }
      await new Promise((res) => setTimeout(res, 25));
    }
    expect(version).toBe('2');
    expect((await send(b.url, 'PATCH', '/admin/routes/shared', { weights: { 'tabular:2': 0 } })).status).toBe(400);
  });
});

describe('request log of routed and shadow requests', () => {
  it('records the route, policy and target, and one shadow record per mirrored copy', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-routes-log-'));
    dirs.push(dir);
    const file = path.join(dir, 'requests.jsonl');
    const t = await startTestServer({ routes: { mirrored: ROUTES.mirrored }, request_log: { sinks: [{ type: 'file', path: file }] } });
    const r = await request(t.url, 'mirrored');
    const id = r.json.id as string;
    for (let i = 0; i < 100; i++) {
      const m = await (await fetch(`${t.url}/metrics`)).text();
      if (counter(m, 'switchyard_route_shadow_requests_total', 'outcome="compared"') >= 1) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    await t.stop();
    const recs = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((x) => x.request_id === id);
    expect(recs).toHaveLength(2);
    expect(recs.find((x) => x.shadow === false)).toMatchObject({ route: 'mirrored', policy: 'weighted', target: 'tabular:1', model_version: '1' });
    expect(recs.find((x) => x.shadow === true)).toMatchObject({ route: 'mirrored', target: 'tabular:2', model_version: '2', status: 'success' });
  });

  it('counts dropped shadows when the shadow budget is spent', async () => {
    const t = await startTestServer({ routes: { mirrored: ROUTES.mirrored }, shadow: { max_inflight: 0 } });
    try {
      for (let i = 0; i < 5; i++) expect((await request(t.url, 'mirrored')).status).toBe(200);
      const m = await (await fetch(`${t.url}/metrics`)).text();
      expect(counter(m, 'switchyard_route_shadow_requests_total', 'outcome="dropped"')).toBe(5);
    } finally {
      await t.stop();
    }
  });
});
