import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Registry } from 'prom-client';
import { DEFAULT_REASONS, FEATURE_LOOKUP_CHANNEL, type FeatureLookupEvent } from '../features/index.js';
import { FastCounter, FastHistogram } from './fast-metrics/index.js';

/** Latency buckets in seconds, from 100 µs to 1 s (a lookup past its timeout ends there). */
const LOOKUP_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * Prometheus metrics of online features, fed from the lookup events the feature service
 * publishes (it never imports prom-client):
 *   switchyard_feature_lookup_duration_seconds{view}      time to get a request's rows (cache + store)
 *   switchyard_feature_cache_hits_total{view}             entities found in the local cache
 *   switchyard_feature_cache_misses_total{view}           entities read from the store
 *     hit ratio = hits / (hits + misses)
 *   switchyard_feature_defaults_total{view,reason}        values replaced by their default
 * Updated per request and view: FastCounter/FastHistogram series() (see fast-metrics/).
 */
export class FeatureMetrics {
  private readonly seconds: FastHistogram<'view'>;
  private readonly hits: FastCounter<'view'>;
  private readonly misses: FastCounter<'view'>;
  private readonly defaults: FastCounter<'view' | 'reason'>;
  private readonly handler: (msg: unknown) => void;

  constructor(registry: Registry) {
    const registers = [registry];
    this.seconds = new FastHistogram({
      name: 'switchyard_feature_lookup_duration_seconds',
      help: "Time to get a request's feature rows for one view (local cache, then the store, bounded by the lookup timeout)",
      labelNames: ['view'],
      buckets: LOOKUP_BUCKETS,
      registers,
    });
    this.hits = new FastCounter({
      name: 'switchyard_feature_cache_hits_total',
      help: 'Entities found in the local feature cache (hit ratio = hits / (hits + misses))',
      labelNames: ['view'],
      registers,
    });
    this.misses = new FastCounter({
      name: 'switchyard_feature_cache_misses_total',
      help: 'Entities not in the local feature cache, read from the store',
      labelNames: ['view'],
      registers,
    });
    this.defaults = new FastCounter({
      name: 'switchyard_feature_defaults_total',
      help: `Feature values replaced by their default, by view and reason (${DEFAULT_REASONS.join(', ')})`,
      labelNames: ['view', 'reason'],
      registers,
    });
    this.handler = (msg: unknown) => this.record(msg as FeatureLookupEvent);
    subscribe(FEATURE_LOOKUP_CHANNEL, this.handler);
  }

  private record(e: FeatureLookupEvent): void {
    this.seconds.series(e.view).observe(e.seconds);
    if (e.hits > 0) this.hits.series(e.view).inc(e.hits);
    if (e.misses > 0) this.misses.series(e.view).inc(e.misses);
    for (let i = 0; i < DEFAULT_REASONS.length; i++) {
      if (e.defaults[i] > 0) this.defaults.series(e.view, DEFAULT_REASONS[i]).inc(e.defaults[i]);
    }
  }

  /** Stops listening (the metrics keep their values). */
  close(): void {
    unsubscribe(FEATURE_LOOKUP_CHANNEL, this.handler);
  }
}
