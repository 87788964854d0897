/**
 * Online features: feature views (Redis hashes, Feast's Redis layout, files in memory), the
 * local cache, tensor assembly with timeouts and defaults, and the loader behind
 * `switchyard features load`.
 */
export { FeatureService, DEFAULT_LOOKUP_TIMEOUT_MS, type FeatureServiceOptions } from './service.js';
export { FeatureBinding, compileFeatures, type CompiledFeatures } from './compile.js';
export { FeatureView, ID_SEPARATOR } from './view.js';
export { FeatureRow } from './row.js';
export { FeatureCache, type Clock } from './cache.js';
export { DEFAULT_REASONS, type DefaultReason } from './reasons.js';
export { FEATURE_LOOKUP_CHANNEL, FeatureLookupEvent } from './diagnostics.js';
export { parseFeature, type FeatureScalar } from './parse.js';
export { loadFeatures, LOAD_BATCH_ROWS, EVENT_TIMESTAMP_COLUMN, type LoadFeaturesOptions, type LoadFeaturesResult, type RejectedRow } from './loader.js';
export { readRecords, fileFormat, splitCsvLine, type FileRecord, type FileFormat } from './records.js';
export { MemoryFeatureStore } from './stores/memory-store.js';
export { RedisFeatureStore } from './stores/redis-store.js';
export { createFeatureRedisClient } from './stores/redis-client.js';
export type { FeatureStore } from './stores/store.js';
export { murmur3x86_32 } from './feast/murmur3.js';
export { FeastKeyLayout, encodeJoinKeyValue, FEAST_VALUE_TYPE, type JoinKey } from './feast/entity-key.js';
export { feastFieldName, feastTimestampField } from './feast/feast-codec.js';
export { decodeFeastValue, decodeTimestampMs, encodeFeastValue, encodeTimestamp, UNSUPPORTED, type FeastScalar } from './feast/value.js';
