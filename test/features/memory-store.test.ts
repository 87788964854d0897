import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig, type FeatureBindingConfig, type FeatureViewConfig } from '../../src/config/index.js';
import { GatewayError, Tensor, toHalf } from '../../src/core/index.js';
import { FeatureService } from '../../src/features/index.js';
import { silentLogger } from '../../src/core/index.js';
import { MetricsProbe, ids, input, recordingLogger, request, rowsOf, signature, tempFiles } from './helpers.js';

const files = tempFiles({
  'customer.jsonl': [
    '{"customer_id": "c1", "age": 40, "tenure_days": 100, "spend_30d": 12.5}',
    '{"customer_id": "c2", "age": 25, "spend_30d": "abc"}',
    'not json',
    '{"age": 50}',
    '',
    '{"customer_id": "c3", "age": 61, "tenure_days": 7, "spend_30d": 0.25, "unused": true}',
  ].join('\n'),
  'merchant.csv': ['merchant_id,risk,volume', 'm1,0.5,1000', '"m,2",0.75,', 'm3,,20'].join('\n'),
});
afterAll(() => files.remove());

const VIEWS: Record<string, FeatureViewConfig> = {
  customer: { entity: 'customer_id', fields: ['age', 'tenure_days', 'spend_30d'], dtype: 'FP32', defaults: { age: 35 }, file: 'customer.jsonl' },
  merchant: { entity: 'merchant_id', fields: ['volume', 'risk'], dtype: 'FP64', defaults: { risk: -1 }, file: 'merchant.csv' },
};
const BINDINGS: Record<string, FeatureBindingConfig> = {
  tabular: { input: 'x', views: ['customer'] },
  combined: { input: 'x', views: ['merchant', 'customer'] },
};

let service: FeatureService;
let probe: MetricsProbe;
beforeAll(async () => {
  probe = new MetricsProbe();
  service = await FeatureService.create({ views: VIEWS, bindings: BINDINGS, redisUrl: null, log: silentLogger, baseDir: files.dir });
  return async () => {
    probe.close();
    await service.close();
  };
});

describe('features from a file, in memory (no Redis)', () => {
  it('fills x with the fields of known entities, in the order the view lists them', async () => {
    const lookups = await probe.lookups('customer');
    const req = request('tabular', [ids('customer_id', ['c3', 'c1'])]);
    const defaulted = await service.assemble(req, service.binding('tabular')!, signature());
    expect(await probe.lookups('customer')).toBe(lookups + 1); // the latency histogram saw it
    const x = input(req, 'x');
    expect(x.datatype).toBe('FP32');
    expect(x.shape).toEqual([2, 3]);
    expect(rowsOf(x)).toEqual([
      [61, 7, 0.25],
      [40, 100, 12.5],
    ]);
    expect(defaulted).toBe(0);
    expect(req.inputs.map((t) => t.name)).toEqual(['x']); // the ids are not a model input
  });

  it('uses defaults for a missing entity and for a row the file gave a value of the wrong type (refused at load, as `features load` does), and counts each reason', async () => {
    const before = await probe.defaults('customer');
    const req = request('tabular', [ids('customer_id', ['c2', 'nobody'])]);
    const defaulted = await service.assemble(req, service.binding('tabular')!, signature());
    // c2's spend_30d "abc" is not FP32: the row was skipped at startup, so c2 is missing like nobody (age 35)
    expect(rowsOf(input(req, 'x'))).toEqual([
      [35, 0, 0],
      [35, 0, 0],
    ]);
    expect(defaulted).toBe(6);
    const after = await probe.defaults('customer');
    const delta = (r: string) => (after[r] ?? 0) - (before[r] ?? 0);
    expect({ missing_field: delta('missing_field'), unparsable: delta('unparsable'), missing_entity: delta('missing_entity') }).toEqual({
      missing_field: 0,
      unparsable: 0,
      missing_entity: 6,
    });
  });

  it('logs each refused line of a file with its reason, as `switchyard features load` reports it', async () => {
    const log = recordingLogger();
    const s = await FeatureService.create({ views: { customer: VIEWS.customer }, bindings: { tabular: BINDINGS.tabular }, redisUrl: null, log, baseDir: files.dir });
    await s.close();
    const skipped = log.lines.filter((l) => l.msg === 'feature file: line skipped').map((l) => [l.fields?.line, l.fields?.reason]);
    expect(skipped).toEqual([
      [2, 'field "spend_30d": "abc" is not a value of dtype FP32'],
      [3, 'not valid JSON'],
      [4, 'no entity id: column "customer_id" is missing or empty'],
    ]);
  });

  it('concatenates several views in binding order and reads CSV (quoted ids, empty cells missing)', async () => {
    const req = request('combined', [ids('merchant_id', ['m,2', 'm3', 'm1']), ids('customer_id', ['c1', 'c1', 'c3'], true)]);
    const defaulted = await service.assemble(req, service.binding('combined')!, signature('x', 'FP64'));
    const x = input(req, 'x');
    expect(x.datatype).toBe('FP64');
    expect(rowsOf(x)).toEqual([
      [0, 0.75, 40, 100, 12.5],
      [20, -1, 40, 100, 12.5],
      [1000, 0.5, 61, 7, 0.25],
    ]);
    expect(defaulted).toBe(2);
  });

  it("converts the view's dtype to the model input's datatype", async () => {
    const req = request('tabular', [ids('customer_id', ['c1'])]);
    await service.assemble(req, service.binding('tabular')!, signature('x', 'INT64'));
    const x = input(req, 'x');
    expect(x.datatype).toBe('INT64');
    expect(Array.from(x.data as BigInt64Array)).toEqual([40n, 100n, 12n]);
    const half = request('tabular', [ids('customer_id', ['c1'])]);
    await service.assemble(half, service.binding('tabular')!, signature('x', 'FP16'));
    expect(Array.from(input(half, 'x').data as Uint16Array)).toEqual([40, 100, 12.5].map(toHalf));
    const bool = request('tabular', [ids('customer_id', ['c2'])]);
    await service.assemble(bool, service.binding('tabular')!, signature('x', 'BOOL'));
    expect(Array.from(input(bool, 'x').data as Uint8Array)).toEqual([1, 0, 0]);
  });

  it('does no lookup when the request sends x itself', async () => {
    const own = new Tensor('x', 'FP32', [1, 3], new Float32Array([1, 2, 3]));
    const req = request('tabular', [own, ids('customer_id', ['c1'])]);
    const lookups = await probe.lookups('customer');
    expect(await service.assemble(req, service.binding('tabular')!, signature())).toBe(0);
    expect(req.inputs).toEqual([own]);
    expect(await probe.lookups('customer')).toBe(lookups);
  });

  it('keeps an entity input the model itself declares', async () => {
    const req = request('tabular', [ids('customer_id', ['c1'])]);
    await service.assemble(req, service.binding('tabular')!, signature('x', 'FP32', -1, [{ name: 'customer_id', datatype: 'BYTES', shape: [-1] }]));
    expect(req.inputs.map((t) => t.name).sort()).toEqual(['customer_id', 'x']);
  });

  it('rejects client mistakes with a 400 that says what was expected', async () => {
    const binding = service.binding('tabular')!;
    const fail = async (inputs: Tensor[]) => {
      const err = await service.assemble(request('tabular', inputs), binding, signature()).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).httpStatus).toBe(400);
      return (err as GatewayError).message;
    };
    expect(await fail([])).toMatch(/needs the BYTES input "customer_id".*send "customer_id", or "x" itself/);
    expect(await fail([new Tensor('customer_id', 'INT64', [1], new BigInt64Array([1n]))])).toMatch(/"customer_id" .* must be BYTES, got INT64/);
    expect(await fail([new Tensor('customer_id', 'BYTES', [1, 2], [new Uint8Array(1), new Uint8Array(1)])])).toMatch(/shape \[n\] or \[n,1\].*got \[1,2\]/);
    const combined = service.binding('combined')!;
    const err = await service.assemble(request('combined', [ids('merchant_id', ['m1']), ids('customer_id', ['c1', 'c2'])]), combined, signature()).catch((e: unknown) => e);
    expect((err as GatewayError).message).toMatch(/disagree on the number of rows: "merchant_id" has 1, "customer_id" has 2/);
  });

  it('reports a model signature the binding cannot fill', () => {
    expect(service.checkSignature('tabular', signature('x', 'FP32', 3))).toEqual([]);
    expect(service.checkSignature('tabular', signature('x', 'FP32', 16))[0]).toMatch(/has 16 columns but feature views "customer" give 3/);
    expect(service.checkSignature('tabular', signature('z'))[0]).toMatch(/has no input "x"/);
    expect(service.checkSignature('other', signature('z'))).toEqual([]);
    expect(service.binding('other')).toBeNull();
  });
});

describe('the example config', () => {
  it('serves the tabular model 16 features of c1..c100 from examples/features/customer.jsonl', async () => {
    const examples = fileURLToPath(new URL('../../examples', import.meta.url));
    const config = loadServerConfig(path.join(examples, 'switchyard.yaml'), {});
    const log = recordingLogger();
    const svc = await FeatureService.create({
      views: config.features.views,
      bindings: { tabular: config.models.tabular.features! },
      redisUrl: null,
      log,
      baseDir: examples, // what the normalise step does for the config's relative file
    });
    try {
      const req = request('tabular', [ids('customer_id', ['c1', 'c100', 'c999'])]);
      const defaulted = await svc.assemble(req, svc.binding('tabular')!, signature('x', 'FP32', 16));
      const x = input(req, 'x');
      expect(x.shape).toEqual([3, 16]);
      expect(defaulted).toBe(16); // c999 is not in the file
      expect(rowsOf(x)[0].every((v) => Number.isFinite(v))).toBe(true);
      expect(log.lines.find((l) => l.msg === 'feature view loaded into memory')?.fields).toMatchObject({ view: 'customer', entities: 100, skipped: 0 });
    } finally {
      await svc.close();
    }
  });
});
