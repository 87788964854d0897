/**
 * prom-client's Counter and Histogram with a cheap per-observation path, for the metrics
 * updated on every request. `series(...values)` finds the series of a tuple of label
 * values (given in labelNames order) through nested Maps, one `get` per label, and the
 * series adds to plain numbers (a Histogram series also to a Float64Array of bucket
 * counts). prom-client instead builds a label hash string and validates the label object
 * on each inc/observe, `labels()` children included: 1.2 µs per request for the gateway's
 * three request metrics against 0.09 µs here (bench/micro/telemetry-metrics.ts, Node 20).
 *
 * Both classes are the prom-client metrics (subclasses): the registry reads them through
 * prom-client's own export code, so /metrics shows exactly what prom-client would for the
 * same observations. The object API (inc(labels, v), observe(labels, v), labels(),
 * remove(), reset(), zero(), startTimer()) keeps prom-client's behaviour; only series()
 * is new. Exemplars are not supported (the constructor refuses them).
 *
 * What of prom-client 15.1 this relies on (test/telemetry/fast-metrics.test.ts compares
 * the exposition with plain prom-client metrics, so an upgrade that changes it fails there):
 *   - each series is an entry of `hashMap`, keyed by `name:value,` over sortedLabelNames
 *     (undefined values skipped); a Counter entry is { value, labels }, a Histogram entry
 *     { labels, bucketValues (count per upper bound), sum, count };
 *   - the constructors assign `this.inc` / `this.observe` as own properties, and reset()
 *     replaces hashMap;
 *   - a Histogram reads hashMap after calling `collect`, for text and JSON alike.
 * A Counter series *is* its hashMap entry (own fields `value` and `labels` only, so JSON
 * is unchanged too); a Histogram series is its entry plus the bucket counts, copied into
 * `bucketValues` on each collect.
 */
export { CounterSeries, FastCounter } from './counter.js';
export { FastHistogram, HistogramSeries } from './histogram.js';
