import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from '../../src/telemetry/fast-metrics/index.js';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const NAMES = ['model', 'version', 'protocol'] as const;
type Name = (typeof NAMES)[number];

/** A plain prom-client metric and a fast one with the same config, each in its own registry. */
function histograms(buckets = LATENCY_BUCKETS, labelNames: readonly Name[] = NAMES) {
  const plain = new Registry();
  const fast = new Registry();
  const config = { name: 'switchyard_request_duration_seconds', help: 'Time to answer', labelNames, buckets };
  return { plain, fast, p: new Histogram({ ...config, registers: [plain] }), f: new FastHistogram({ ...config, registers: [fast] }) };
}

function counters(labelNames: readonly string[] = ['model', 'version', 'protocol', 'status']) {
  const plain = new Registry();
  const fast = new Registry();
  const config = { name: 'switchyard_requests_total', help: 'Requests', labelNames };
  return { plain, fast, p: new Counter({ ...config, registers: [plain] }), f: new FastCounter({ ...config, registers: [fast] }) };
}

/** Both registries give the same text and the same JSON. */
async function expectSame(plain: Registry, fast: Registry): Promise<string> {
  const text = await fast.metrics();
  expect(text).toBe(await plain.metrics());
  expect(JSON.stringify(await fast.getMetricsAsJSON())).toBe(JSON.stringify(await plain.getMetricsAsJSON()));
  return text;
}

const TUPLES: [string, string, string][] = [
  ['tabular', '1', 'rest'],
  ['tabular', '2', 'grpc'],
  ['simple', '1', 'rest'],
  ['', '', 'ws'],
  ['we"ird\\', 'x\ny', 'rest'],
];

describe('FastHistogram', () => {
  it('exposes what prom-client does: values on a bucket bound, under the first, past the last (+Inf only), several label sets', async () => {
    const { plain, fast, p, f } = histograms();
    const values = [0.0001, 0.00025, 10, 0.00009, 0, -1, 10.000001, 1e9, 0.0012, 0.5, 2.5, 0.25000000000000006];
    values.forEach((v, i) => {
      const [model, version, protocol] = TUPLES[i % TUPLES.length];
      p.observe({ model, version, protocol }, v);
      f.series(model, version, protocol).observe(v);
    });
    const text = await expectSame(plain, fast);
    // tabular/1/rest got 0.0001 (on the first bound), -1 and 2.5 (on a bound)
    expect(text).toContain('switchyard_request_duration_seconds_bucket{le="0.0001",model="tabular",version="1",protocol="rest"} 2');
    expect(text).toContain('switchyard_request_duration_seconds_bucket{le="1",model="tabular",version="1",protocol="rest"} 2');
    expect(text).toContain('switchyard_request_duration_seconds_bucket{le="2.5",model="tabular",version="1",protocol="rest"} 3');
    expect(text).toContain('switchyard_request_duration_seconds_bucket{le="+Inf",model="tabular",version="1",protocol="rest"} 3');
  });

  it('exposes what prom-client does for any sequence of observations (sums added in the same order)', async () => {
    const value = fc.oneof(fc.constantFrom(...LATENCY_BUCKETS), fc.double({ min: -1, max: 20, noNaN: true }), fc.double({ min: 0, max: 0.01, noNaN: true }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(TUPLES.length - 1), value, fc.boolean()), { maxLength: 200 }), async (ops) => {
        const { plain, fast, p, f } = histograms();
        for (const [t, v, viaObject] of ops) {
          const [model, version, protocol] = TUPLES[t];
          p.observe({ model, version, protocol }, v);
          if (viaObject) f.observe({ model, version, protocol }, v);
          else f.series(model, version, protocol).observe(v);
        }
        await expectSame(plain, fast);
      }),
      { numRuns: 100 },
    );
  });

  it('counts a bound given twice once, at its first place, as prom-client does', async () => {
    const { plain, fast, p, f } = histograms([1, 2, 2, 4], ['model']);
    for (const v of [0.5, 2, 2, 3, 5]) {
      p.observe({ model: 'm' }, v);
      f.series('m').observe(v);
    }
    await expectSame(plain, fast);
  });

  it('keeps the object API: labels(), startTimer, zero, remove, reset; label values of another type are one series', async () => {
    const { plain, fast, p, f } = histograms(LATENCY_BUCKETS, ['model', 'version']);
    const pc = p.labels('tabular', '1');
    const fc_ = f.labels('tabular', '1');
    pc.observe(0.001);
    fc_.observe(0.001);
    p.observe({ model: 'tabular', version: 1 }, 0.2);
    f.observe({ model: 'tabular', version: 1 }, 0.2);
    f.series('tabular', '1').observe(0.3);
    p.observe({ model: 'tabular', version: '1' }, 0.3);
    p.zero({ model: 'simple', version: '3' });
    f.zero({ model: 'simple', version: '3' });
    await expectSame(plain, fast);

    p.remove('tabular', '1');
    f.remove('tabular', '1');
    await expectSame(plain, fast);
    pc.observe(0.004);
    fc_.observe(0.004);
    f.series('tabular', '1').observe(0.006);
    p.observe({ model: 'tabular', version: '1' }, 0.006);
    await expectSame(plain, fast);

    p.reset();
    f.reset();
    expect(await expectSame(plain, fast)).not.toContain('_bucket');
    const end = f.labels({ model: 'simple', version: '1' }).startTimer();
    end();
    expect(await fast.metrics()).toContain('switchyard_request_duration_seconds_count{model="simple",version="1"} 1');
  });

  it('without labels, exposes the empty series from the start, as prom-client does', async () => {
    const { plain, fast, p, f } = histograms(LATENCY_BUCKETS, []);
    await expectSame(plain, fast);
    p.observe(0.003);
    f.observe(0.003);
    f.series().observe(0.02);
    p.observe(0.02);
    await expectSame(plain, fast);
    p.reset();
    f.reset();
    await expectSame(plain, fast);
  });

  it('counts what a collect function observes in the same scrape', async () => {
    const registry = new Registry();
    let n = 0;
    new FastHistogram({
      name: 'h',
      help: 'h',
      buckets: [1],
      labelNames: ['a'],
      registers: [registry],
      async collect() {
        await Promise.resolve();
        (this as FastHistogram<'a'>).series(String(n++ % 2)).observe(0.5);
      },
    });
    expect(await registry.metrics()).toContain('h_bucket{le="1",a="0"} 1');
    expect(await registry.metrics()).toContain('h_bucket{le="1",a="1"} 1');
  });

  it('refuses what prom-client refuses, and series() with the wrong number of values', () => {
    const { p, f } = histograms();
    for (const h of [p, f]) {
      expect(() => h.observe({ model: 'm', version: '1', protocol: 'rest' }, NaN)).toThrow(TypeError);
      expect(() => h.observe({ model: 'm', version: '1', protocol: 'rest' }, Infinity)).toThrow('Value is not a valid number: Infinity');
      expect(() => h.observe({ model: 'm', region: 'eu' } as never, 1)).toThrow('Added label "region" is not included in initial labelset');
    }
    expect(() => f.series('m', '1').observe(1)).toThrow('label protocol has none');
    expect(() => f.series('m', '1', 'rest', 'x')).toThrow('4 label values');
    expect(() => f.series('m', '1', 'rest').observe(NaN)).toThrow(TypeError);
    expect(() => new FastHistogram({ name: 'e', help: 'e', enableExemplars: true, registers: [] })).toThrow('exemplars');
  });
});

describe('FastCounter', () => {
  it('exposes what prom-client does: several label sets, increments of 1 and of a value, object and series() calls mixed', async () => {
    const { plain, fast, p, f } = counters();
    const statuses = ['success', 'SY_ERR_QUEUE_FULL'];
    for (let i = 0; i < 50; i++) {
      const [model, version, protocol] = TUPLES[i % TUPLES.length];
      const status = statuses[i % 3 === 0 ? 1 : 0];
      const by = i % 4 === 0 ? 0.1 * i : undefined;
      p.inc({ model, version, protocol, status }, by);
      if (i % 2) f.inc({ model, version, protocol, status }, by);
      else f.series(model, version, protocol, status).inc(by);
    }
    p.inc({ model: 'zero', version: '1', protocol: 'rest', status: 'success' }, 0);
    f.series('zero', '1', 'rest', 'success').inc(0);
    await expectSame(plain, fast);
  });

  it('keeps the object API: labels(), remove, reset; without labels, the series at 0 from the start', async () => {
    const { plain, fast, p, f } = counters(['sink']);
    const pc = p.labels('file');
    const fc_ = f.labels({ sink: 'file' });
    pc.inc();
    fc_.inc();
    p.inc({ sink: 'redis' }, 3);
    f.series('redis').inc(3);
    await expectSame(plain, fast);
    p.remove({ sink: 'file' });
    f.remove({ sink: 'file' });
    await expectSame(plain, fast);
    pc.inc(2);
    fc_.inc(2);
    p.reset();
    f.reset();
    await expectSame(plain, fast);
    pc.inc(5);
    fc_.inc(5);
    await expectSame(plain, fast);

    const none = counters([]);
    await expectSame(none.plain, none.fast);
    none.p.inc();
    none.f.inc();
    none.f.series().inc(2);
    none.p.inc(2);
    await expectSame(none.plain, none.fast);
    none.p.reset();
    none.f.reset();
    await expectSame(none.plain, none.fast);
  });

  it('refuses what prom-client refuses', () => {
    const { p, f } = counters(['sink']);
    for (const c of [p, f]) {
      expect(() => c.inc({ sink: 'x' }, -1)).toThrow('It is not possible to decrease a counter');
      expect(() => c.inc({ sink: 'x' }, NaN)).not.toThrow(); // prom-client lets NaN through (`value && …`)
      expect(() => c.inc({ sink: 'x' }, Infinity)).toThrow(TypeError);
      expect(() => c.inc({ other: 'x' } as never)).toThrow('Added label "other" is not included in initial labelset');
      expect(() => c.labels('a', 'b')).toThrow('Invalid number of arguments (2)');
    }
    expect(() => f.series('x').inc(-1)).toThrow('It is not possible to decrease a counter');
    expect(() => f.series()).toThrow('label sink has none');
  });
});
