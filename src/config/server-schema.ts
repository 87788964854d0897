/**
 * The server config schema (one YAML file, e.g. examples/switchyard.yaml), authored once:
 * types, published JSON Schema, validator and defaults (each leaf's `default`) come from
 * here. Two forms: ServerConfigSchema is the complete config after defaults are merged in
 * (what is validated); ServerConfigFileSchema is what a file may say (every key optional,
 * a null section meaning "defaults"), published for editors.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { DeepReadonly } from './merge.js';
import { orNull, PartialModelConfigSchema } from './model-schema.js';
import { MonitoringConfigFileProperties, MonitoringConfigProperties } from './monitoring-schema.js';
import { RoutesConfigSchema, RoutesSchema } from './route-schema.js';
import { FeatureConfigFileProperties, FeatureConfigProperties } from './feature-schema.js';
import { WebhookConfigFileProperties, WebhookConfigProperties } from './webhook-schema.js';

const port = (value: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: value, description: `${description}; 0 = any free port` });
const host = (description: string) => Type.String({ minLength: 1, default: '0.0.0.0', description });

export const HttpSchema = Type.Object(
  {
    host: host('address the HTTP server (REST, WebSocket, /metrics) listens on'),
    port: port(8000, 'HTTP port'),
    max_body_bytes: Type.Integer({
      minimum: 1,
      default: 64 * 1024 * 1024,
      description: 'largest request body accepted; larger ones get 413',
    }),
    max_inflight_body_bytes: Type.Integer({
      minimum: 0,
      default: 0,
      description:
        'bytes of infer request bodies being read at once, over every connection; a body that does not fit is refused with 429 and Retry-After before it is read. 0 = a quarter of the machine\'s memory',
    }),
    reuse_port: Type.Boolean({
      default: false,
      description:
        'false: the HTTP port belongs to this process, a second gateway on it fails at startup; true: SO_REUSEPORT, so several gateways on one host share the port and the kernel spreads connections among them (each needs its own grpc.port, and Redis for shared state)',
    }),
  },
  { additionalProperties: false, description: 'REST, WebSocket and /metrics listener' },
);

export const GrpcSchema = Type.Object(
  {
    host: host('address the gRPC server listens on'),
    port: port(8001, 'gRPC port'),
    enabled: Type.Boolean({ default: true, description: 'serve inference.GRPCInferenceService' }),
    max_receive_message_bytes: Type.Integer({
      minimum: 1,
      default: 64 * 1024 * 1024,
      description: 'largest gRPC message accepted from a client; larger ones fail with RESOURCE_EXHAUSTED',
    }),
    max_send_message_bytes: Type.Integer({
      minimum: 1,
      default: 64 * 1024 * 1024,
      description: 'largest gRPC message sent to a client; a larger response fails with RESOURCE_EXHAUSTED',
    }),
    max_stream_inflight: Type.Integer({
      minimum: 1,
      default: 1024,
      description: 'requests of one ModelStreamInfer stream in flight at once; the server reads no more from the stream until some finish',
    }),
    max_connections: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'open gRPC connections at once; a connection beyond it is closed as it arrives (counted in switchyard_connections_refused_total), so idle clients cannot take every file descriptor',
    }),
    idle_timeout_s: Type.Integer({
      minimum: 0,
      default: 300,
      description: 'a gRPC connection with no call for this long is closed with GOAWAY (clients reconnect on their next call); 0 = never',
    }),
  },
  { additionalProperties: false, description: 'gRPC listener' },
);

export const WebSocketSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'serve WebSocket streaming at ws://<http.host>:<http.port>/v2/stream' }),
    max_payload_bytes: Type.Integer({
      minimum: 1024,
      maximum: 1024 * 1024 * 1024,
      default: 16 * 1024 * 1024,
      description:
        'largest message accepted; a larger one is answered with an error and counts as a protocol violation, and one over twice this is not read at all (the connection is dropped: close code 1006)',
    }),
    max_inflight_per_connection: Type.Integer({
      minimum: 1,
      default: 128,
      description: 'requests one connection may have running in the gateway at once; later ones wait in the connection queue',
    }),
    max_queued_per_connection: Type.Integer({
      minimum: 0,
      default: 1024,
      description:
        'received messages one connection may have waiting to start (in-flight limit reached, or send buffer full); beyond that they are answered with an error, or the socket is closed with 1013 while its send buffer is full',
    }),
    max_queued_bytes: Type.Integer({
      minimum: 0,
      default: 16 * 1024 * 1024,
      description: 'bytes of the messages one connection may have waiting to start (one message always fits, as long as max_queued_per_connection allows one)',
    }),
    max_buffered_bytes: Type.Integer({
      minimum: 1024,
      default: 1024 * 1024,
      description: 'send buffer size above which no new request from that connection is started until the client has read its responses',
    }),
    idle_timeout_s: Type.Union([Type.Literal(0), Type.Integer({ minimum: 8, maximum: 960 })], {
      default: 120,
      description: 'seconds without a message either way after which a connection is closed; 0 = never',
      expected: '0 or an integer 8..960',
    }),
    send_pings: Type.Boolean({ default: true, description: 'ping idle clients before idle_timeout_s so that live connections stay open' }),
    max_violations: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'protocol violations (bad JSON, missing id, bad binary framing, oversized message) after which a connection is closed with 1008',
    }),
  },
  { additionalProperties: false, description: 'WebSocket streaming on the HTTP port (/v2/stream)' },
);

export const ShadowSchema = Type.Object(
  {
    max_inflight: Type.Integer({
      minimum: 0,
      default: 64,
      description: 'shadow copies (a route\'s mirrored traffic) running at once; beyond it new copies are dropped and counted, never queued behind client requests',
    }),
  },
  { additionalProperties: false, description: 'mirrored (shadow) traffic of routes' },
);

export const RedisSchema = Type.Object(
  {
    url: Type.Union([Type.String({ pattern: '^rediss?://\\S+$' }), Type.Null()], {
      default: null,
      description: 'redis:// or rediss:// URL that turns on shared state between replicas; null = in-memory stores',
      expected: 'a redis:// or rediss:// URL, or null',
    }),
  },
  { additionalProperties: false, description: 'shared state (routes, bandit statistics, features, request log streams)' },
);

export const LogLevelSchema = Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], {
  default: 'info',
  description: 'least severe log level written',
});
export type LogLevel = Static<typeof LogLevelSchema>;

export const ServerConfigSchema = Type.Object(
  {
    http: HttpSchema,
    grpc: GrpcSchema,
    websocket: WebSocketSchema,
    model_repository: Type.String({
      minLength: 1,
      default: './models',
      description: "folder of models (<model>/<version>/model.onnx); a relative path is read from the config file's folder",
    }),
    model_name: Type.Union([Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$' }), Type.Null()], {
      default: null,
      description:
        "null: model_repository holds one folder per model. A name: model_repository is that one model's folder (KServe's /mnt/models), with <version>/model.onnx folders or, without any, a model.onnx of its own served as version 1",
      expected: 'a model name (letters, digits, "_", "-" and "." not first, at most 128 characters) or null',
    }),
    model_control_mode: Type.Union([Type.Literal('none'), Type.Literal('explicit')], {
      default: 'none',
      description:
        "none: every model in model_repository is loaded at startup; explicit: only startup_models are (Triton's --model-control-mode=explicit), the others are listed in the repository index, unloaded, until POST /v2/repository/models/<name>/load",
    }),
    startup_models: Type.Array(Type.String({ pattern: '^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|\\*)$' }), {
      default: [],
      uniqueItems: true,
      description: 'with model_control_mode explicit: the models loaded at startup, "*" for all of them (Triton\'s --load-model); each must be a folder of model_repository',
      expected: 'a list of model names, or ["*"]',
    }),
    admin_token: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      description: 'bearer token required by the admin API (routes, model load/unload); null = no token',
      expected: 'a non-empty string or null',
      secret: true,
    }),
    server_name: Type.String({
      minLength: 1,
      maxLength: 64,
      default: 'switchyard',
      description:
        'the server name GET /v2 and gRPC ServerMetadata answer; Triton\'s client examples check for "triton", so the bundled example config says that',
    }),
    redis: RedisSchema,
    state_dir: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: './state',
      description:
        "without redis.url: the folder where routes changed at run time, canary progress, bandit statistics and the audit log persist across restarts (created when missing; one gateway per folder). A relative path is read from the config file's folder. null = in memory only, lost on restart. Not used with redis.url (Redis holds that state)",
      expected: 'a folder path, or null',
    }),
    drain_timeout_s: Type.Number({
      minimum: 0,
      default: 30,
      description: 'seconds to finish in-flight requests on SIGTERM before exiting',
    }),
    log_level: LogLevelSchema,
    threads: Type.Integer({
      minimum: 0,
      default: 0,
      description: 'CPU threads ONNX Runtime may use across all models and instances; 0 = os.availableParallelism()',
    }),
    model_defaults: PartialModelConfigSchema,
    routes: RoutesConfigSchema,
    shadow: ShadowSchema,
    ...MonitoringConfigProperties,
    ...FeatureConfigProperties,
    ...WebhookConfigProperties,
  },
  { additionalProperties: false },
);

export const ServerConfigFileSchema = Type.Partial(
  Type.Object({
    ...ServerConfigSchema.properties,
    http: orNull(Type.Partial(HttpSchema, { additionalProperties: false })),
    grpc: orNull(Type.Partial(GrpcSchema, { additionalProperties: false })),
    websocket: orNull(Type.Partial(WebSocketSchema, { additionalProperties: false })),
    redis: orNull(Type.Partial(RedisSchema, { additionalProperties: false })),
    model_defaults: orNull(PartialModelConfigSchema),
    routes: RoutesSchema,
    shadow: orNull(Type.Partial(ShadowSchema, { additionalProperties: false })),
    ...MonitoringConfigFileProperties,
    ...FeatureConfigFileProperties,
    ...WebhookConfigFileProperties,
  }),
  { additionalProperties: false },
);

/**
 * The server config after loading: every key present, paths absolute, `threads` >= 1
 * (0 in the file is replaced by os.availableParallelism()). Deeply frozen.
 */
export type ServerConfig = DeepReadonly<Static<typeof ServerConfigSchema>>;
