export { ConfigError, isConfigError, formatIssue, formatValue, type ConfigIssue, type ConfigIssueKind } from './errors.js';
export type { DeepReadonly } from './merge.js';
export { ENV_OVERRIDES, type EnvOverride, type EnvValueKind } from './env-overrides.js';
export {
  ModelConfigSchema,
  PartialModelConfigSchema,
  DynamicBatchingSchema,
  VersionPolicySchema,
  ExecutionProviderSchema,
  type ExecutionProvider,
  type PartialModelConfig,
  type VersionPolicy,
} from './model-schema.js';
export {
  parseModelConfig,
  resolveModelConfig,
  validateModelConfig,
  type ModelConfig,
} from './model-config.js';
export { ServerConfigSchema, ServerConfigFileSchema, LogLevelSchema, type LogLevel, type ServerConfig } from './server-schema.js';
export {
  DEFAULTS_SOURCE,
  loadServerConfig,
  parseServerConfig,
  normaliseServerConfig,
  validateServerConfig,
  type NormaliseOptions,
  type NormalisedServerConfig,
} from './server-config.js';
export { schemaDocuments, toJsonSchema, type SchemaDocument } from './json-schema.js';
export {
  DriftSchema,
  EvaluationSchema,
  RequestLogSchema,
  RequestLogSinkSchema,
  type DriftConfig,
  type EvaluationConfig,
  type FileSinkConfig,
  type RedisStreamSinkConfig,
  type RequestLogConfig,
  type RequestLogSinkConfig,
} from './monitoring-schema.js';
export { writeSchemaFiles } from './write-schema.js';
