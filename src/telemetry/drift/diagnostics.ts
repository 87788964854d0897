/**
 * Drift events on `node:diagnostics_channel`: one message when a column starts drifting
 * (an episode begins) and one when it returns below both thresholds. The monitor publishes
 * them from its timer (off the request path); webhooks subscribe. This module imports
 * nothing, so subscribers take the name and the payload type without the monitor.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** Published by DriftMonitor.compute for each column whose drift episode starts or ends. */
export const DRIFT_EPISODE_CHANNEL = 'switchyard:drift:episode';

export interface DriftEpisodeEvent {
  readonly model: string;
  readonly version: string;
  /** the watched column, as the drift gauges label it (`<tensor>[<index>]` or the tensor's name) */
  readonly column: string;
  /** started: the column crossed a threshold; ended: it is below both again */
  readonly state: 'started' | 'ended';
  readonly psi: number;
  readonly ks: number;
  readonly psiThreshold: number;
  readonly ksThreshold: number;
  /** values per column the statistics were computed on (drift.window) */
  readonly window: number;
}

export const driftEpisodeChannel = diagnosticsChannel.channel(DRIFT_EPISODE_CHANNEL);
