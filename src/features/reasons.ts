/**
 * Why a feature value was replaced by its default. Bounded: these are metric label values.
 * Each has a small integer code so that a row can note per field why it was defaulted in
 * a Uint8Array (0 = the value is real).
 */
export const DEFAULT_REASONS = ['missing_entity', 'missing_field', 'unparsable', 'error', 'timeout', 'stale'] as const;
export type DefaultReason = (typeof DEFAULT_REASONS)[number];

/** Reason codes as stored in FeatureRow.reasons (index in DEFAULT_REASONS + 1). */
export const REASON = Object.freeze({
  ok: 0,
  missing_entity: 1,
  missing_field: 2,
  unparsable: 3,
  error: 4,
  timeout: 5,
  stale: 6,
} as const satisfies Record<DefaultReason | 'ok', number>);
export type ReasonCode = (typeof REASON)[keyof typeof REASON];
