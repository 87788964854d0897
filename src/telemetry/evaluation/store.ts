import type { Prediction } from './prediction.js';

/** What joining a label to the prediction index found. */
export type LabelOutcome = 'joined' | 'unmatched' | 'duplicate';

/**
 * The prediction index of the label join: recent predictions by request id, bounded and
 * TTL'd. Implementations: memory (this replica) and Redis (shared by replicas).
 */
export interface PredictionStore {
  /** Remembers `prediction` for `id` (fire and forget: failures are counted by the store's owner via onError). */
  remember(id: string, prediction: Prediction): void;
  /** The prediction for `id`, or null when there is none (never made, or forgotten). */
  get(id: string): Promise<Prediction | null>;
  /**
   * Marks `id` as labelled. True the first time, false when it already was (a duplicate
   * label). Atomic: of two concurrent calls exactly one gets true.
   */
  markLabelled(id: string): Promise<boolean>;
  close(): Promise<void>;
}
