/**
 * Config schema of the monitoring sections of the server config: `request_log`,
 * `evaluation` and `drift`. Like server-schema.ts, each section has a complete form (what
 * is validated, defaults in each leaf's `default`) and a file form (every key optional).
 *
 * Request log sinks are a list, and lists are replaced whole when a file is layered over
 * the defaults, so a sink's own defaults (`max_bytes`…) are filled in by
 * normaliseMonitoringConfig, which also makes relative sink paths absolute. Cross-key
 * rules (a Redis sink needs a Redis URL) are in monitoringConfigIssues.
 */
import path from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { configIssue, type ConfigIssue } from './errors.js';
import { isPlainObject, type DeepReadonly } from './merge.js';
import { orNull } from './model-schema.js';
import { closestKey } from './suggest.js';

const rate = (value: number, description: string) => Type.Number({ minimum: 0, maximum: 1, default: value, description });
const positive = (value: number, description: string) =>
  Type.Number({ exclusiveMinimum: 0, default: value, description, expected: 'a number > 0' });

const fileSinkProperties = {
  path: Type.String({
    minLength: 1,
    default: 'logs/requests.jsonl',
    description: "JSON-lines file the records are appended to; a relative path is read from the config file's folder",
  }),
  max_bytes: Type.Integer({
    minimum: 1024,
    default: 104857600,
    description: 'size in bytes past which the file is rotated: renamed to <path>.1 (older ones shift to .2 …) and a new one started',
  }),
  max_files: Type.Integer({
    minimum: 0,
    default: 5,
    description: 'rotated files kept (<path>.1 … <path>.N); the oldest is deleted; 0 = keep none',
  }),
};

const redisSinkProperties = {
  stream: Type.String({ minLength: 1, default: 'switchyard:requests', description: 'Redis Stream key the records are added to (XADD)' }),
  maxlen: Type.Integer({
    minimum: 1,
    default: 1000000,
    description: 'approximate length the stream is trimmed to on each add (XADD MAXLEN ~ n)',
  }),
  url: Type.Union([Type.String({ pattern: '^rediss?://\\S+$' }), Type.Null()], {
    default: null,
    description: 'redis:// or rediss:// URL of the Redis holding the stream; null = redis.url',
    expected: 'a redis:// or rediss:// URL, or null',
  }),
};

/** A sink's `type`; a wrong one reads "expected one of file | redis_stream | stdout". */
const sinkType = <T extends string>(type: T) => Type.Literal(type, { expected: 'one of file | redis_stream | stdout' });

const SINK_EXPECTED =
  '{ type: file, path, max_bytes, max_files }, { type: redis_stream, stream, maxlen, url } or { type: stdout }';

export const FileSinkSchema = Type.Object(
  { type: sinkType('file'), ...fileSinkProperties },
  { additionalProperties: false, description: 'JSON lines in a file with size-based rotation' },
);
export const RedisStreamSinkSchema = Type.Object(
  { type: sinkType('redis_stream'), ...redisSinkProperties },
  { additionalProperties: false, description: 'entries of a Redis Stream, one field `record` holding the JSON record' },
);
export const StdoutSinkSchema = Type.Object(
  { type: sinkType('stdout') },
  { additionalProperties: false, description: 'JSON lines on standard output' },
);
export const RequestLogSinkSchema = Type.Union([FileSinkSchema, RedisStreamSinkSchema, StdoutSinkSchema], {
  description: 'where request records are written',
  expected: SINK_EXPECTED,
});

/** What a file may say about a sink: `type` and any of that type's keys. */
const RequestLogSinkFileSchema = Type.Union(
  [
    Type.Object(
      { type: sinkType('file'), ...Type.Partial(Type.Object(fileSinkProperties)).properties },
      { additionalProperties: false, description: FileSinkSchema.description },
    ),
    Type.Object(
      { type: sinkType('redis_stream'), ...Type.Partial(Type.Object(redisSinkProperties)).properties },
      { additionalProperties: false, description: RedisStreamSinkSchema.description },
    ),
    StdoutSinkSchema,
  ],
  { description: 'where request records are written', expected: SINK_EXPECTED },
);

const requestLogProperties = {
  payload_sample_rate: rate(
    0,
    'fraction of requests (0..1) whose full input and output tensors are written in their record; the others carry shapes and an output summary',
  ),
  buffer_records: Type.Integer({
    minimum: 1,
    default: 10000,
    description: 'records each sink may hold in memory waiting to be written; when full, new records are dropped and counted',
  }),
  flush_interval_ms: Type.Integer({
    minimum: 0,
    maximum: 10000,
    default: 50,
    description:
      'longest a record waits before its sinks are written (a full batch of 256 goes at once); longer intervals make fewer, larger writes. 0 = write as soon as the event loop is free',
  }),
  close_timeout_s: Type.Number({
    minimum: 0,
    default: 10,
    description: 'at shutdown, seconds to wait for every buffered record to be written; what is left then is counted as dropped',
  }),
};

const DEFAULT_SINKS = [{ type: 'file', ...defaultsOf(fileSinkProperties) }];

export const RequestLogSchema = Type.Object(
  {
    sinks: Type.Array(RequestLogSinkSchema, {
      default: DEFAULT_SINKS,
      description: 'where every request record is written (several at once); [] = no request log',
      expected: `a list of sinks, each ${SINK_EXPECTED}`,
    }),
    ...requestLogProperties,
  },
  { additionalProperties: false, description: 'one record per request (errors and shadow calls included), written asynchronously' },
);

export const RequestLogFileSchema = Type.Partial(
  Type.Object({
    sinks: Type.Array(RequestLogSinkFileSchema, {
      default: DEFAULT_SINKS,
      description: 'where every request record is written (several at once); [] = no request log',
      expected: `a list of sinks, each ${SINK_EXPECTED}`,
    }),
    ...requestLogProperties,
  }),
  { additionalProperties: false, description: RequestLogSchema.description },
);

export const EvaluationSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'remember each prediction so that a label sent to POST /v2/feedback is joined to it and scored',
    }),
    store: Type.Union([Type.Literal('auto'), Type.Literal('memory'), Type.Literal('redis')], {
      default: 'auto',
      description: 'where predictions wait for their labels: memory (this replica only), redis (shared by replicas; needs redis.url), auto = redis when redis.url is set',
    }),
    ttl_s: Type.Integer({ minimum: 1, default: 86400, description: 'seconds a prediction waits for its label before it is forgotten' }),
    max_predictions: Type.Integer({
      minimum: 1,
      default: 100000,
      description: 'predictions the store holds (in Redis: over every replica together); beyond it the oldest are forgotten',
    }),
    key_prefix: Type.String({ minLength: 1, default: 'switchyard:prediction:', description: 'prefix of the Redis keys of remembered predictions' }),
  },
  { additionalProperties: false, description: 'ground truth: join labels to logged predictions, online accuracy / MAE / RMSE per model version' },
);

export const DriftSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'watch the inputs and outputs of every served version for drift' }),
    window: Type.Integer({ minimum: 10, default: 1000, description: 'most recent values per column that the statistics are computed on' }),
    reference_requests: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'when a version has no reference.json beside its model file, the values of the first N requests it serves become its reference',
    }),
    interval_s: positive(30, 'seconds between two computations of the drift statistics (off the request path)'),
    psi_threshold: positive(0.2, 'Population Stability Index above which a column is drifting (0.1 moderate, 0.25 large)'),
    ks_threshold: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.1,
      description: 'two-sample Kolmogorov-Smirnov statistic above which a column is drifting',
      expected: 'a number in (0, 1]',
    }),
    max_columns: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 32,
      description: 'columns watched per tensor (the first N); bounds the number of gauge series',
    }),
    sample_rate: rate(1, 'fraction of requests (0..1) whose values enter the drift windows'),
  },
  { additionalProperties: false, description: 'input and output drift against a reference distribution (PSI and KS gauges)' },
);

/** The three sections as the complete server config holds them. */
export const MonitoringConfigProperties = {
  request_log: RequestLogSchema,
  evaluation: EvaluationSchema,
  drift: DriftSchema,
};

/** The three sections as a file may write them (every key optional, null = defaults). */
export const MonitoringConfigFileProperties = {
  request_log: orNull(RequestLogFileSchema),
  evaluation: orNull(Type.Partial(EvaluationSchema, { additionalProperties: false })),
  drift: orNull(Type.Partial(DriftSchema, { additionalProperties: false })),
};

export type RequestLogSinkConfig = DeepReadonly<Static<typeof RequestLogSinkSchema>>;
export type FileSinkConfig = DeepReadonly<Static<typeof FileSinkSchema>>;
export type RedisStreamSinkConfig = DeepReadonly<Static<typeof RedisStreamSinkSchema>>;
export type RequestLogConfig = DeepReadonly<Static<typeof RequestLogSchema>>;
export type EvaluationConfig = DeepReadonly<Static<typeof EvaluationSchema>>;
export type DriftConfig = DeepReadonly<Static<typeof DriftSchema>>;

function defaultsOf(properties: Record<string, TSchema>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(properties)) out[key] = schema.default;
  return out;
}

const SINK_DEFAULTS: Readonly<Record<string, Record<string, unknown>>> = {
  file: defaultsOf(fileSinkProperties),
  redis_stream: defaultsOf(redisSinkProperties),
  stdout: {},
};

/**
 * Part of the normalise step, on the merged server config (changed in place): fills in
 * each sink's missing keys from its type's defaults and resolves a file sink's relative
 * path against `baseDir` (the config file's folder). Values of the wrong type are left for
 * validation to report.
 */
export function normaliseMonitoringConfig(config: unknown, baseDir: string): void {
  if (!isPlainObject(config) || !isPlainObject(config.request_log)) return;
  const sinks = config.request_log.sinks;
  if (!Array.isArray(sinks)) return;
  for (const sink of sinks) {
    if (!isPlainObject(sink) || typeof sink.type !== 'string' || !Object.hasOwn(SINK_DEFAULTS, sink.type)) continue;
    for (const [key, value] of Object.entries(SINK_DEFAULTS[sink.type])) {
      if (!Object.hasOwn(sink, key)) sink[key] = value;
    }
    if (sink.type === 'file' && typeof sink.path === 'string' && sink.path !== '') sink.path = path.resolve(baseDir, sink.path);
  }
}

/**
 * Rules the schema cannot say: whatever needs Redis has a Redis URL. Also names an unknown
 * key of a sink whose type is known (the schema reports such a sink as a whole, since it
 * then fits none of the sink types).
 */
export function monitoringConfigIssues(config: unknown, sourceOf: (key: string) => string): ConfigIssue[] {
  if (!isPlainObject(config)) return [];
  const redisUrl = isPlainObject(config.redis) ? config.redis.url : null;
  const hasRedis = typeof redisUrl === 'string' && redisUrl !== '';
  const issues: ConfigIssue[] = [];
  const sinks = isPlainObject(config.request_log) ? config.request_log.sinks : null;
  if (Array.isArray(sinks)) {
    sinks.forEach((sink, i) => {
      if (!isPlainObject(sink) || typeof sink.type !== 'string' || !Object.hasOwn(SINK_DEFAULTS, sink.type)) return;
      const known = ['type', ...Object.keys(SINK_DEFAULTS[sink.type])];
      for (const key of Object.keys(sink)) {
        if (known.includes(key)) continue;
        const at = `request_log.sinks[${i}].${key}`;
        const close = closestKey(key, known);
        issues.push(
          configIssue({
            kind: 'unknown-key',
            source: sourceOf(at),
            path: at,
            value: sink[key],
            expected: `one of ${known.join(', ')} in a ${sink.type} sink`,
            detail: close === null ? '' : `(did you mean "${close}"?)`,
          }),
        );
      }
      if (sink.type === 'redis_stream' && (sink.url === null || sink.url === undefined) && !hasRedis) {
        const key = `request_log.sinks[${i}].url`;
        issues.push(configIssue({ source: sourceOf(key), path: key, value: null, expected: 'a redis:// URL here or in redis.url (a redis_stream sink needs Redis)' }));
      }
    });
  }
  if (isPlainObject(config.evaluation) && config.evaluation.store === 'redis' && !hasRedis) {
    const key = 'evaluation.store';
    issues.push(configIssue({ source: sourceOf(key), path: key, value: 'redis', expected: 'memory or auto while redis.url is null (the redis store needs redis.url)' }));
  }
  return issues;
}
