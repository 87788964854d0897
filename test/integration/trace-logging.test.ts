/**
 * Triton's trace and logging extensions over REST and gRPC: trace settings mapped onto the
 * OpenTelemetry spans the gateway records (an in-memory exporter here), log settings onto
 * the logger that writes the server's log lines.
 */
import { status } from '@grpc/grpc-js';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { Tracing } from '../../src/telemetry/index.js';
import { createLogger } from '../../src/core/index.js';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { EXAMPLE_MODELS, getJson, postJson, startTestServer, type TestServer } from '../helpers/server.js';
import { StreamClient } from '../helpers/stream-client.js';
import { authorization, rejection } from './grpc-helpers.js';

const SIMPLE = { inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) })) };

describe('trace settings without an exporter', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.stop());

  it('answers the settings as Triton writes them, tracing off', async () => {
    const r = await getJson(`${t.url}/v2/trace/setting`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ trace_level: ['OFF'], trace_rate: '1', trace_count: '-1', log_frequency: '0', trace_file: '', trace_mode: 'opentelemetry' });
  });

  it('refuses to turn tracing on with nowhere to send spans, and other bad settings, naming the key', async () => {
    const set = (body: unknown) => postJson(`${t.url}/v2/trace/setting`, body);
    const cases: [unknown, string][] = [
      [{ trace_level: ['TIMESTAMPS'] }, 'no OpenTelemetry exporter is configured'],
      [{ trace_level: ['TENSORS'] }, 'trace level TENSORS (tensor contents in traces) is not supported'],
      [{ trace_level: ['OFF', 'TIMESTAMPS'] }, "Expect only one trace level 'OFF' is specified"],
      [{ trace_level: ['LOUD'] }, 'unknown trace level "LOUD"'],
      [{ trace_rate: 'often' }, "Unable to parse 'trace_rate', got: \"often\"; expected an integer from 1 to 4294967295"],
      [{ trace_rate: '0' }, "Unable to parse 'trace_rate'"],
      [{ trace_count: '-2' }, "Unable to parse 'trace_count'"],
      [{ trace_file: '/tmp/trace.json' }, 'trace file location can not be updated through network protocol'],
      [{ trace_mode: 'triton' }, 'trace_mode can not be updated'],
      [{ trace_colour: 'red' }, 'unknown trace setting "trace_colour"'],
      [{ trace_rate: { n: 1 } }, 'must be a string, a list of strings, or null'],
      [[1], 'must be a JSON object'],
    ];
    for (const [body, msg] of cases) {
      const r = await set(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error as string).toContain(msg);
    }
    // nothing changed, not even by a request that had a good key before its bad one
    expect((await set({ trace_rate: '7', trace_count: 'x' })).status).toBe(400);
    expect((await getJson(`${t.url}/v2/trace/setting`)).json.trace_rate).toBe('1');
  });

  it('changes global settings, and clears them back to the startup values with null', async () => {
    const r = await postJson(`${t.url}/v2/trace/setting`, { trace_rate: '50', trace_count: 10, log_frequency: '3', trace_level: ['OFF'] });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ trace_level: ['OFF'], trace_rate: '50', trace_count: '10', log_frequency: '3' });
    const cleared = await postJson(`${t.url}/v2/trace/setting`, { trace_rate: null, trace_count: null, log_frequency: null });
    expect(cleared.json).toMatchObject({ trace_rate: '1', trace_count: '-1', log_frequency: '0' });
  });

  it('keeps a model its own settings over the global ones; null clears them; unknown models are 404', async () => {
    const m = await postJson(`${t.url}/v2/models/simple/trace/setting`, { trace_rate: '5' });
    expect(m.status).toBe(200);
    expect(m.json.trace_rate).toBe('5');
    // a key the model does not set follows the global value as it changes
    await postJson(`${t.url}/v2/trace/setting`, { trace_count: '20' });
    expect((await getJson(`${t.url}/v2/models/simple/trace/setting`)).json).toMatchObject({ trace_rate: '5', trace_count: '20' });
    expect((await getJson(`${t.url}/v2/models/tabular/trace/setting`)).json).toMatchObject({ trace_rate: '1', trace_count: '20' });
    expect((await getJson(`${t.url}/v2/trace/setting`)).json.trace_rate).toBe('1');
    const cleared = await postJson(`${t.url}/v2/models/simple/trace/setting`, { trace_rate: null });
    expect(cleared.json.trace_rate).toBe('1');
    await postJson(`${t.url}/v2/trace/setting`, { trace_count: null });
    const unknown = await getJson(`${t.url}/v2/models/nope/trace/setting`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toContain("Request for unknown model: 'nope'");
    expect((await postJson(`${t.url}/v2/models/nope/trace/setting`, { trace_rate: '2' })).status).toBe(404);
  });

  it('answers TraceSetting over gRPC the same way; no values clears a setting', async () => {
    const c = new GrpcInferenceClient(t.grpcAddress);
    try {
      const got = await c.unary('traceSetting', {});
      expect(Object.fromEntries(Object.entries(got.settings).map(([k, v]) => [k, v.value]))).toEqual({
        trace_level: ['OFF'],
        trace_rate: ['1'],
        trace_count: ['-1'],
        log_frequency: ['0'],
        trace_file: [''],
        trace_mode: ['opentelemetry'],
      });
      const set = await c.unary('traceSetting', { modelName: 'simple', settings: { trace_rate: { value: ['9'] } } });
      expect(set.settings.trace_rate.value).toEqual(['9']);
      expect((await getJson(`${t.url}/v2/models/simple/trace/setting`)).json.trace_rate).toBe('9');
      const cleared = await c.unary('traceSetting', { modelName: 'simple', settings: { trace_rate: { value: [] } } });
      expect(cleared.settings.trace_rate.value).toEqual(['1']);
      const bad = await rejection(c.unary('traceSetting', { settings: { trace_level: { value: ['TENSORS'] } } }));
      expect(bad.code).toBe(status.INVALID_ARGUMENT);
      expect((await rejection(c.unary('traceSetting', { modelName: 'nope' }))).code).toBe(status.NOT_FOUND);
    } finally {
      c.close();
    }
  });
});

describe('trace settings decide which requests get spans', () => {
  let t: TestServer;
  const exporter = new InMemorySpanExporter();
  beforeAll(async () => {
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    t = await startTestServer({}, undefined, { monitoring: { tracing: Tracing.withTracer(provider.getTracer('test')) } });
  });
  afterAll(() => t.stop());

  const inferSpans = (model: string) => exporter.getFinishedSpans().filter((s) => s.name === 'infer' && s.attributes['switchyard.model'] === model).length;
  async function run(model: string, n: number, headers: Record<string, string> = {}): Promise<void> {
    for (let i = 0; i < n; i++) expect((await postJson(`${t.url}/v2/models/${model}/infer`, SIMPLE, headers)).status).toBe(200);
  }

  it('traces every request by default (level TIMESTAMPS, rate 1)', async () => {
    expect((await getJson(`${t.url}/v2/trace/setting`)).json).toMatchObject({ trace_level: ['TIMESTAMPS'], trace_rate: '1', trace_count: '-1' });
    exporter.reset();
    await run('simple', 3);
    expect(inferSpans('simple')).toBe(3);
  });

  it('trace_rate N traces one request in N; trace_count stops after that many, counting down', async () => {
    await postJson(`${t.url}/v2/trace/setting`, { trace_rate: '3' });
    exporter.reset();
    await run('simple', 9);
    expect(inferSpans('simple')).toBe(3);
    await postJson(`${t.url}/v2/trace/setting`, { trace_rate: '1', trace_count: '2' });
    exporter.reset();
    await run('simple', 5);
    expect(inferSpans('simple')).toBe(2);
    expect((await getJson(`${t.url}/v2/trace/setting`)).json.trace_count).toBe('0');
    // a request with the caller's trace context is traced whatever the rate, but counts too
    await postJson(`${t.url}/v2/trace/setting`, { trace_rate: '1000', trace_count: '1' });
    exporter.reset();
    await run('simple', 2, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(inferSpans('simple')).toBe(1);
    await postJson(`${t.url}/v2/trace/setting`, { trace_rate: null, trace_count: null });
  });

  it('a model level OFF stops its spans only, until cleared', async () => {
    await postJson(`${t.url}/v2/models/simple/trace/setting`, { trace_level: ['OFF'] });
    exporter.reset();
    await run('simple', 2);
    const other = await postJson(`${t.url}/v2/models/tabular/infer`, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 16], data: new Array(16).fill(0.5) }] });
    expect(other.status).toBe(200);
    expect(inferSpans('simple')).toBe(0);
    expect(inferSpans('tabular')).toBe(1);
    await postJson(`${t.url}/v2/models/simple/trace/setting`, { trace_level: null });
    exporter.reset();
    await run('simple', 1);
    expect(inferSpans('simple')).toBe(1);
  });
});

describe('log settings', () => {
  let dir: string;
  let server: RunningServer;
  let url: string;
  const lines: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-logging-'));
    cpSync(EXAMPLE_MODELS, join(dir, 'models'), { recursive: true });
    const file = join(dir, 'switchyard.yaml');
    writeFileSync(file, stringify({ http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model_repository: join(dir, 'models'), log_level: 'info' }));
    server = await startServer(loadServerConfig(file, {}), createLogger('info', (l) => lines.push(l)));
    url = `http://127.0.0.1:${server.httpPort}`;
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const readyLines = () => lines.filter((l) => l.includes('"model version ready"') && l.includes('"simple_int8"')).length;
  const reload = async () => expect((await postJson(`${url}/v2/repository/models/simple_int8/load`, '')).status).toBe(200);

  it('answers the settings the log level started them with', async () => {
    const r = await getJson(`${url}/v2/logging`);
    expect(r.json).toEqual({ log_file: '', log_info: true, log_warning: true, log_error: true, log_verbose_level: 0, log_format: 'default' });
  });

  it('turns info messages off and on at run time', async () => {
    const before = readyLines();
    const off = await postJson(`${url}/v2/logging`, { log_info: false });
    expect(off.status).toBe(200);
    expect(off.json.log_info).toBe(false);
    await reload();
    expect(readyLines()).toBe(before);
    await postJson(`${url}/v2/logging`, { log_info: true });
    await reload();
    expect(readyLines()).toBe(before + 1);
  });

  it('writes debug messages from verbose level 1 (a WebSocket closing logs one)', async () => {
    await postJson(`${url}/v2/logging`, { log_verbose_level: 1 });
    const ws = await StreamClient.open(url);
    ws.ws.close(1000);
    await ws.closed;
    const until = Date.now() + 5000;
    while (!lines.some((l) => l.includes('"websocket closed"')) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(lines.some((l) => l.includes('"level":"debug"') && l.includes('"websocket closed"'))).toBe(true);
    await postJson(`${url}/v2/logging`, { log_verbose_level: 0 });
  });

  it('refuses what it cannot do, naming the key', async () => {
    const cases: [unknown, string][] = [
      [{ log_info: 'yes' }, 'log_info must be true or false'],
      [{ log_verbose_level: -1 }, 'log_verbose_level must be an integer from 0'],
      [{ log_format: 'ISO8601' }, 'invalid argument for log_format, got: "ISO8601"'],
      [{ log_file: '/tmp/x.log' }, 'log file location can not be updated through network protocol'],
      [{ log_colour: true }, 'unknown log setting "log_colour"'],
      ['[]', 'must be a JSON object'],
    ];
    for (const [body, msg] of cases) {
      const r = await postJson(`${url}/v2/logging`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error as string).toContain(msg);
    }
    expect((await postJson(`${url}/v2/logging`, { log_format: 'default', log_file: null, log_error: null })).status).toBe(200);
  });

  it('answers LogSettings over gRPC the same way', async () => {
    const c = new GrpcInferenceClient(`127.0.0.1:${server.grpcPort}`);
    try {
      const got = await c.unary('logSettings', {});
      expect(got.settings.log_info.parameterChoice).toEqual({ case: 'boolParam', value: true });
      expect(got.settings.log_verbose_level.parameterChoice).toEqual({ case: 'uint32Param', value: 0 });
      expect(got.settings.log_format.parameterChoice).toEqual({ case: 'stringParam', value: 'default' });
      const set = await c.unary('logSettings', { settings: { log_warning: { parameterChoice: { case: 'boolParam', value: false } } } });
      expect(set.settings.log_warning.parameterChoice.value).toBe(false);
      expect((await getJson(`${url}/v2/logging`)).json.log_warning).toBe(false);
      const bad = await rejection(c.unary('logSettings', { settings: { log_info: { parameterChoice: { case: 'uint32Param', value: 3 } } } }));
      expect(bad.code).toBe(status.INVALID_ARGUMENT);
      expect(bad.details).toContain('log_info must be true or false');
      await c.unary('logSettings', { settings: { log_warning: { parameterChoice: { case: 'boolParam', value: true } } } });
    } finally {
      c.close();
    }
  });
});

describe('with an admin token', () => {
  let t: TestServer;
  let c: GrpcInferenceClient;
  beforeAll(async () => {
    t = await startTestServer({ admin_token: 'settings-secret' });
    c = new GrpcInferenceClient(t.grpcAddress);
  });
  afterAll(async () => {
    c.close();
    await t.stop();
  });

  it('changing settings needs the token; reading them does not', async () => {
    expect((await getJson(`${t.url}/v2/logging`)).status).toBe(200);
    expect((await getJson(`${t.url}/v2/trace/setting`)).status).toBe(200);
    expect((await postJson(`${t.url}/v2/logging`, { log_info: false })).status).toBe(401);
    expect((await postJson(`${t.url}/v2/trace/setting`, { trace_rate: '2' }, { authorization: 'Bearer nope' })).status).toBe(403);
    expect((await postJson(`${t.url}/v2/models/simple/trace/setting`, { trace_rate: '2' })).status).toBe(401);
    expect((await postJson(`${t.url}/v2/trace/setting`, { trace_rate: '2' }, { authorization: 'Bearer settings-secret' })).status).toBe(200);
    // startTestServer's logger writes nothing: every level reads as off
    expect((await c.unary('logSettings', {})).settings.log_info.parameterChoice.value).toBe(false);
    expect((await rejection(c.unary('traceSetting', { settings: { trace_rate: { value: ['4'] } } }))).code).toBe(status.UNAUTHENTICATED);
    expect((await rejection(c.unary('logSettings', { settings: { log_info: { parameterChoice: { case: 'boolParam', value: true } } } }))).code).toBe(status.UNAUTHENTICATED);
    const ok = await c.unary('traceSetting', { settings: { trace_rate: { value: ['4'] } } }, { metadata: authorization('settings-secret') });
    expect(ok.settings.trace_rate.value).toEqual(['4']);
  });
});
