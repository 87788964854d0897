import diagnosticsChannel from 'node:diagnostics_channel';
import type { GatewayError } from '../core/errors.js';
import type { DispatchReason } from './scheduler.js';

/**
 * Batching events on `node:diagnostics_channel`. Metrics and tracing subscribe; the batcher
 * builds a payload only when a channel has subscribers, and imports neither.
 */

export const BATCH_DISPATCH_CHANNEL = 'switchyard:batch:dispatch';
export const BATCH_COMPLETE_CHANNEL = 'switchyard:batch:complete';

/** Published when a batch leaves the queue for an instance. */
export interface BatchDispatchEvent {
  readonly model: string;
  readonly version: string;
  /** dim-0 rows in the batch */
  readonly items: number;
  readonly requests: number;
  readonly reason: DispatchReason;
}

/** Published when the runner settles a batch (error: it rejected or returned bad outputs). */
export interface BatchCompleteEvent {
  readonly model: string;
  readonly version: string;
  readonly items: number;
  readonly requests: number;
  /** dispatch to the last response built: inputUs + inferUs + outputUs */
  readonly computeUs: number;
  /** assembling the batch's input tensors */
  readonly inputUs: number;
  /** the runner (transfer to the instance, session run, transfer back) */
  readonly inferUs: number;
  /** checking the outputs and slicing them into per-request responses */
  readonly outputUs: number;
  readonly error: boolean;
  /** why the batch failed (every request of it got this error), or null */
  readonly failure: GatewayError | null;
  /** performance.now() at dispatch */
  readonly dispatchedAt: number;
  /** the requests' `trace` values when at least one request is traced, else null */
  readonly traces: readonly unknown[] | null;
}

export const dispatchChannel = diagnosticsChannel.channel(BATCH_DISPATCH_CHANNEL);
export const completeChannel = diagnosticsChannel.channel(BATCH_COMPLETE_CHANNEL);
