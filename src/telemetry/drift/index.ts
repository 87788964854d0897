export { DRIFT_EPISODE_CHANNEL, type DriftEpisodeEvent } from './diagnostics.js';
export { DriftMonitor, REFERENCE_FILE, type DriftMonitorOptions, type ObservedModel } from './monitor.js';
export { DriftMetrics } from './metrics.js';
export { ModelDrift, MAX_REFERENCE_VALUES, type ColumnDrift, type DriftSettings } from './model-drift.js';
export { columnLayout, WatchedTensor, type ColumnLayout } from './columns.js';
export {
  ColumnReference,
  PSI_BINS,
  REFERENCE_FORMAT,
  REFERENCE_POINTS,
  ReferenceFormatError,
  parseReferenceFile,
  quantilesOf,
  type ReferenceColumn,
  type ReferenceFile,
} from './reference.js';
export { binIndex, binProportions, interpolateQuantile, ksTwoSample, psi, quantileSorted } from './statistics.js';
export { ColumnWindow } from './window.js';
export { readSampleFile, SampleFileError, type SampleColumns } from './sample-file.js';
export { renderReference, writeReferenceFile, type WriteReferenceOptions, type WrittenReference } from './write-reference.js';
