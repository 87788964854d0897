export { ConfigError, configIssue, isConfigError, formatIssue, formatValue, type ConfigIssue, type ConfigIssueKind } from './errors.js';
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
export {
  FEATURE_DTYPES,
  FEAST_JOIN_KEY_TYPES,
  FeatureBindingSchema,
  FeatureViewSchema,
  FeaturesSchema,
  ModelSettingsSchema,
  VIEW_DEFAULTS,
  featureConfigIssues,
  joinKeyNames,
  normaliseFeatureConfig,
  type FeastJoinKeyType,
  type FeatureBindingConfig,
  type FeatureDtype,
  type FeatureViewConfig,
  type FeaturesConfig,
  type ModelSettingsConfig,
} from './feature-schema.js';
export {
  BANDIT_ALGORITHMS,
  BANDIT_REWARDS,
  ROUTE_DEFAULTS,
  ROUTE_NAME_PATTERN,
  ROUTE_POLICIES,
  RouteSpecSchema,
  RoutesConfigSchema,
  RoutesSchema,
  isValidRouteName,
  routeConfigIssues,
  routeSpecIssues,
  type BanditRouteInput,
  type CanaryRouteInput,
  type RoutePolicyName,
  type RouteSpecInput,
  type WeightedRouteInput,
} from './route-schema.js';
export {
  WEBHOOK_EVENT_TYPES,
  WebhookSchema,
  WebhookSettingsSchema,
  webhookName,
  type WebhookConfig,
  type WebhookEventType,
  type WebhookSettingsConfig,
} from './webhook-schema.js';
