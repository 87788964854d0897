export { createLogger, silentLogger, type LogLevel, type Logger } from './logger.js';
export { Metrics, REQUEST_END_CHANNEL, type RequestEnd, type ServedModelView } from './metrics.js';
export { WS_BACKPRESSURE_CHANNEL, WS_VIOLATION_CHANNEL, type StreamView, type WsViolation } from './metrics.js';
export { InferenceStatistics, type InferBatchStatistics, type InferStatistics, type ModelStatisticsJson, type StatisticDuration } from './statistics.js';
export { Monitoring, type MonitoringOptions, type RequestContext } from './monitoring.js';
export { Tracing, startTracing, RequestSpan } from './tracing.js';
export { type LabelOutcome } from './evaluation/index.js';
export { writeReferenceFile, SampleFileError } from './drift/index.js';
