export { Metrics, type ConnectionMetrics, type ServedModelView } from './metrics.js';
export { type StreamView } from './metrics.js';
export { InferenceStatistics, type InferBatchStatistics, type InferStatistics, type ModelStatisticsJson, type StatisticDuration } from './statistics.js';
export { Monitoring, type MonitoringOptions, type RequestContext } from './monitoring.js';
export { Tracing, startTracing, RequestSpan } from './tracing.js';
export { EVALUATION_LABEL_CHANNEL, type LabelOutcome, type LabelScoredEvent } from './evaluation/index.js';
export { writeReferenceFile, SampleFileError, DRIFT_EPISODE_CHANNEL, type DriftEpisodeEvent } from './drift/index.js';
export { TraceSettings, traceChangesFromJson, type TraceSettingChanges, type TraceSettingsJson } from './trace-settings.js';
export { LogSettings, logChangesFromJson, type LogSettingChanges, type LogSettingsJson } from './log-settings.js';
