import diagnosticsChannel from 'node:diagnostics_channel';
import { DEFAULT_REASONS } from './reasons.js';

/**
 * Feature lookup events on `node:diagnostics_channel`. Metrics subscribe
 * (telemetry/feature-metrics.ts); the feature service builds a payload only when the channel
 * has subscribers and imports no metrics library.
 */
export const FEATURE_LOOKUP_CHANNEL = 'switchyard:features:lookup';

/** Published once per view per assembled request. */
export class FeatureLookupEvent {
  readonly view: string;
  /** seconds from the start of the request's lookups until their rows were all there (or the timeout) */
  readonly seconds: number;
  /** entities found in the local cache / not found there (0 and 0 when the view has no cache) */
  readonly hits: number;
  readonly misses: number;
  /** values defaulted, indexed as DEFAULT_REASONS */
  readonly defaults: Uint32Array;

  constructor(view: string, seconds: number, hits: number, misses: number) {
    this.view = view;
    this.seconds = seconds;
    this.hits = hits;
    this.misses = misses;
    this.defaults = new Uint32Array(DEFAULT_REASONS.length);
  }
}

export const lookupChannel = diagnosticsChannel.channel(FEATURE_LOOKUP_CHANNEL);
