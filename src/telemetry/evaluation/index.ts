export { Evaluator, type EvaluatorOptions } from './evaluator.js';
export { EvaluationMetrics } from './metrics.js';
export { MemoryPredictionStore } from './memory-store.js';
export { RedisPredictionStore, type RedisPredictionStoreOptions } from './redis-store.js';
export { Prediction, predictionFromOutputs, type PredictionKind } from './prediction.js';
export { parseLabel } from './label.js';
export type { LabelOutcome, PredictionStore } from './store.js';
export { EVALUATION_LABEL_CHANNEL, type LabelScoredEvent } from './diagnostics.js';
