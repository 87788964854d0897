export { Metrics, type ConnectionMetrics, type ServedModelView } from './metrics.js';
export { type StreamView } from './metrics.js';
export { InferenceStatistics, type InferBatchStatistics, type InferStatistics, type ModelStatisticsJson, type StatisticDuration } from './statistics.js';
export { Monitoring, type MonitoringOptions, type RequestContext } from './monitoring.js';
export { Tracing, startTracing, RequestSpan } from './tracing.js';
export { type LabelOutcome } from './evaluation/index.js';
export { writeReferenceFile, SampleFileError } from './drift/index.js';
export { TraceSettings, traceChangesFromJson, type TraceSettingChanges, type TraceSettingsJson } from './trace-settings.js';
export { LogSettings, logChangesFromJson, type LogSettingChanges, type LogSettingsJson } from './log-settings.js';
