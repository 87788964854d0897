/**
 * Online evaluation events on `node:diagnostics_channel`: one message per label joined to
 * its prediction (from POST /v2/feedback, never the inference path). Webhooks subscribe to
 * judge windowed accuracy. This module imports nothing.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** Published by the Evaluator once per label scored against its prediction. */
export const EVALUATION_LABEL_CHANNEL = 'switchyard:evaluation:label';

export interface LabelScoredEvent {
  readonly model: string;
  readonly version: string;
  readonly task: 'classification' | 'regression';
  /** prediction rows the label scored */
  readonly rows: number;
  /** classification: rows predicted right; regression: 0 */
  readonly correct: number;
  /** regression: sums of |label - prediction| and (label - prediction)^2 over the rows; classification: 0 */
  readonly absError: number;
  readonly sqError: number;
}

export const labelScoredChannel = diagnosticsChannel.channel(EVALUATION_LABEL_CHANNEL);
