export { LoadedVersion, resolveMaxBatchSize, type ResolvedModelConfig } from './loaded-version.js';
export { ModelRepository, selectVersions, type IndexEntry, type RepositoryOptions, type VersionState } from './model-repository.js';
export { checkModelName, checkVersion, confined, isValidModelName, isValidVersion, versionFolder } from './paths.js';
export { parseConfigOverride } from './config-override.js';
export { MODEL_LOAD_CHANNEL, type ModelLoadEvent } from './diagnostics.js';
