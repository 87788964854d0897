import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_DOCUMENT } from '../../src/transport/http/openapi.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The document is also checked against the OpenAPI 3.0 meta-schema, and every answer of a live
// gateway against the document, by schemathesis in test/compat/test_openapi.py.

type Json = Record<string, unknown>;
const doc = OPENAPI_DOCUMENT as Json;
const paths = doc.paths as Record<string, Record<string, Json>>;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

/** `/v2/models/:model/infer` → `/v2/models/{}/infer`; `/v2/models/{model_name}/infer` likewise. */
function shapeOf(path: string): string {
  return path.replace(/:[^/]+/g, '{}').replace(/\{[^}]+\}/g, '{}');
}

function resolve(pointer: string): unknown {
  let at: unknown = doc;
  for (const key of pointer.replace(/^#\//, '').split('/')) at = (at as Json | undefined)?.[key];
  return at;
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe('GET /v2/openapi.json', () => {
  it('serves the document as JSON', async () => {
    const res = await fetch(`${t.url}/v2/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
  });

  it('describes every route the HTTP server registers, and nothing else', () => {
    const registered = t.server.http.routeTable.list().map((r) => `${r.method} ${r.pattern}`);
    expect(registered.length).toBeGreaterThan(40);
    // uWS's `/v1/models/:spec` is one segment that the handler splits at ':predict'
    const served = new Set(registered.map((r) => shapeOf(r)));
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(paths)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${shapeOf(path.replace('{model_name}:predict', '{spec}'))}`);
    }
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
  });

  it('is an OpenAPI 3.0 document whose references all resolve and whose path parameters are declared', () => {
    expect(doc.openapi).toBe('3.0.3');
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(50);
    expect(refs.filter((r) => resolve(r) === undefined)).toEqual([]);
    const ids: string[] = [];
    for (const [path, ops] of Object.entries(paths)) {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const o of Object.values(ops)) {
        ids.push(o.operationId as string);
        const declared = ((o.parameters ?? []) as Json[]).map((p) => resolve(p.$ref as string) as Json).filter((p) => p.in === 'path').map((p) => p.name);
        expect(declared, `${path}`).toEqual(templated);
        expect(Object.keys(o.responses as Json).length).toBeGreaterThan(0);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('a method a path does not have', () => {
  it('is a 405 naming the methods it has, in Allow', async () => {
    const res = await fetch(`${t.url}/v2/health/live`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
    expect(res.headers.get('x-switchyard-error')).toBe('SY_ERR_METHOD_NOT_ALLOWED');
    expect(await res.json()).toEqual({ code: 'SY_ERR_METHOD_NOT_ALLOWED', error: 'DELETE is not a method of /v2/health/live; it answers GET' });
    const trace = await fetch(`${t.url}/v2/models/simple/trace/setting`, { method: 'PUT', body: '{}' });
    expect(trace.status).toBe(405);
    expect(trace.headers.get('allow')).toBe('GET, POST');
  });

  it('leaves unknown paths a 404', async () => {
    const res = await fetch(`${t.url}/v2/nothing/here`, { method: 'DELETE' });
    expect(res.status).toBe(404);
  });
});

// found by schemathesis (test/compat/test_openapi.py): `null` was taken as an empty body
describe('settings bodies', () => {
  it.each(['/v2/logging', '/v2/trace/setting', '/v2/models/simple/trace/setting'])('POST %s with a null body is a 400, not a no-op', async (path) => {
    const res = await fetch(`${t.url}${path}`, { method: 'POST', body: 'null' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/body must be a JSON object/);
    const empty = await fetch(`${t.url}${path}`, { method: 'POST' });
    expect(empty.status).toBe(200);
  });
});
