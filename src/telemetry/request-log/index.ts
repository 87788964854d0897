export { RecordPayload, RequestRecord, TensorShape } from './record.js';
export { RecordRing } from './record-ring.js';
export type { RequestLogSink } from './sink.js';
export { DEFAULT_BATCH_RECORDS, RequestLogWriter, type RequestLogWriterOptions } from './writer.js';
export { DROP_REASONS, RequestLogMetrics, type DropReason } from './metrics.js';
export {
  MAX_SUMMARY_ROWS,
  OutputSummary,
  SMALL_OUTPUT_ELEMENTS,
  capturePayload,
  describeTensors,
  numberAt,
  summariseOutput,
  summariseOutputs,
  type TensorPayload,
} from './summary.js';
export * from './sinks/index.js';
