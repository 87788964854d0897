/**
 * The OpenAPI 3.0 document of the REST door, served at `GET /v2/openapi.json`.
 *
 * It describes the API, not what is served: `model_name` and `model_version` are path
 * parameters, and a model's own inputs and outputs are in its metadata. It is static, built
 * once at module load and frozen; server.ts answers it as a string written once.
 * test/transport/openapi.test.ts checks that every route server.ts registers is here, and
 * test/compat/test_openapi.py runs schemathesis against a live gateway with it.
 * WebSocket streaming (`/v2/stream`) is not REST and not in it (see the README).
 */

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json): Json => ({ 'application/json': { schema } });

/** The error answers: every one is `{"error", "code"}` with the code in `x-switchyard-error`. */
const ERROR_TEXT: Record<number, string> = {
  400: 'bad request: what was wrong and what was expected',
  401: 'admin operation without the admin token',
  403: 'wrong admin token, or a non-loopback client with no token configured',
  404: 'unknown model, version, route, region or id',
  405: 'the path exists, the method does not (the `Allow` header lists those that do)',
  409: 'conflict with the current state',
  413: 'body over `http.max_body_bytes` (compressed or decompressed)',
  415: 'a `Content-Encoding` other than gzip or deflate',
  429: 'queue full, or too many body bytes in flight (`retry-after` says when to retry)',
  499: 'the client went away',
  500: 'the model failed; the server log has the details',
  503: 'model not available, worker died, or the gateway is draining',
  504: 'timed out in the queue or in the model',
};

const errors = (...codes: number[]): Json => Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/E${c}` }]));
/** Every path can answer these: a bad path parameter (400), unknown names (404), a method the path has not (405). */
const COMMON = [400, 404, 405];
const ADMIN = [401, 403];
const INFER_ERRORS = [...COMMON, 413, 415, 429, 499, 500, 503, 504];

interface Op {
  summary: string;
  tags: string[];
  params?: string[];
  body?: Json;
  bodyRequired?: boolean;
  ok: Json;
  errors: number[];
  admin?: boolean;
}

function op(o: Op, id: string): Json {
  const out: Json = {
    operationId: id,
    summary: o.summary,
    tags: o.tags,
    responses: { ...o.ok, ...errors(...new Set([...o.errors, ...(o.admin === true ? ADMIN : [])])) },
  };
  if (o.params !== undefined && o.params.length > 0) out.parameters = o.params.map((p) => ({ $ref: `#/components/parameters/${p}` }));
  if (o.body !== undefined) out.requestBody = { required: o.bodyRequired === true, content: o.body };
  if (o.admin === true) out.security = [{ adminToken: [] }];
  return out;
}

const ok = (schema: Json, description = 'OK', headers?: Json): Json => ({ '200': { description, content: json(schema), ...(headers === undefined ? {} : { headers }) } });
const EMPTY_OK = ok({ type: 'object', maxProperties: 0 });
const anyObject: Json = { type: 'object' };

const model = ['model_name'];
const modelVersion = ['model_name', 'model_version'];

/** Both spellings of a per-model path: without and with `/versions/{model_version}`. */
function perVersion(suffix: string, method: string, o: Op, id: string): Record<string, Json> {
  return {
    [`/v2/models/{model_name}${suffix}`]: { [method]: op({ ...o, params: [...model, ...(o.params ?? [])] }, id) },
    [`/v2/models/{model_name}/versions/{model_version}${suffix}`]: { [method]: op({ ...o, params: [...modelVersion, ...(o.params ?? [])] }, `${id}Version`) },
  };
}

const inferBody: Json = {
  ...json(ref('InferRequest')),
  'application/octet-stream': {
    schema: { type: 'string', format: 'binary', description: 'binary tensor extension: the JSON header (its length in `Inference-Header-Content-Length`) followed by the raw tensors' },
  },
};

const inferOk: Json = {
  '200': {
    description: 'the outputs; `application/octet-stream` when an output was asked for as binary data (`Inference-Header-Content-Length` then gives the JSON header\'s length)',
    headers: { 'x-request-id': { $ref: '#/components/headers/RequestId' } },
    content: { ...json(ref('InferResponse')), 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  },
};

const shmPaths = (kind: 'system' | 'cuda'): Record<string, Json> => {
  const base = `/v2/${kind}sharedmemory`;
  const tag = ['shared memory'];
  const admin = kind === 'system';
  const unregister = (params: string[], id: string): Json =>
    op({ summary: `unregister ${params.length > 0 ? 'one region' : 'every region'} (a body is ignored)`, tags: tag, params, ok: EMPTY_OK, errors: COMMON, admin }, id);
  return {
    [`${base}/status`]: { get: op({ summary: 'registered regions', tags: tag, ok: ok({ type: 'array', items: ref('SharedMemoryRegion') }), errors: COMMON }, `${kind}ShmStatus`) },
    [`${base}/region/{region_name}/status`]: {
      get: op({ summary: 'one region', tags: tag, params: ['region_name'], ok: ok({ type: 'array', items: ref('SharedMemoryRegion') }), errors: COMMON }, `${kind}ShmRegionStatus`),
    },
    [`${base}/region/{region_name}/register`]: {
      post: op(
        {
          summary: kind === 'system' ? 'register a POSIX shared memory region' : 'not supported (no CUDA regions): always 400',
          tags: tag,
          params: ['region_name'],
          body: json(kind === 'system' ? ref('SharedMemoryRegister') : anyObject),
          bodyRequired: kind === 'system',
          ok: EMPTY_OK,
          errors: [...COMMON, 409],
          admin,
        },
        `${kind}ShmRegister`,
      ),
    },
    [`${base}/unregister`]: { post: unregister([], `${kind}ShmUnregisterAll`) },
    [`${base}/region/{region_name}/unregister`]: { post: unregister(['region_name'], `${kind}ShmUnregister`) },
  };
};

const traceOps = (params: string[], id: string): Json => ({
  get: op({ summary: 'trace settings', tags: ['trace'], params, ok: ok(ref('TraceSettings')), errors: COMMON }, `get${id}`),
  post: op({ summary: 'change some trace settings (null clears one); answers all', tags: ['trace'], params, body: json(ref('TraceSettingsUpdate')), ok: ok(ref('TraceSettings')), errors: COMMON, admin: true }, `update${id}`),
});

const paths: Record<string, Json> = {
  '/v2/health/live': { get: op({ summary: 'liveness', tags: ['health'], ok: ok({ type: 'object', required: ['live'], properties: { live: { type: 'boolean' } } }), errors: [405] }, 'serverLive') },
  '/v2/health/ready': {
    get: op(
      {
        summary: 'readiness: false while draining or with no model ready',
        tags: ['health'],
        ok: {
          '200': { description: 'ready', content: json(ref('ServerReady')) },
          '503': { description: 'not ready', content: json(ref('ServerReady')) },
        },
        errors: [405],
      },
      'serverReady',
    ),
  },
  '/v2': { get: op({ summary: 'server metadata and extensions', tags: ['server'], ok: ok(ref('ServerMetadata')), errors: [405] }, 'serverMetadata') },
  '/v2/openapi.json': { get: op({ summary: 'this document', tags: ['server'], ok: ok(anyObject), errors: [405] }, 'openapi') },
  ...perVersion('', 'get', { summary: 'model metadata: inputs, outputs, versions', tags: ['models'], ok: ok(ref('ModelMetadata')), errors: COMMON }, 'modelMetadata'),
  ...perVersion(
    '/ready',
    'get',
    {
      summary: 'model readiness: 200 ready, 400 not ready, 404 unknown',
      tags: ['models'],
      ok: {
        '200': { description: 'ready', content: json(ref('ModelReady')) },
        '400': { description: 'not ready, or a malformed name', content: json({ anyOf: [ref('ModelReady'), ref('Error')] }) },
      },
      errors: [404, 405],
    },
    'modelReady',
  ),
  '/v2/models/stats': { get: op({ summary: 'statistics of every served version', tags: ['statistics'], ok: ok(ref('ModelStatistics')), errors: [405] }, 'allModelStatistics') },
  ...perVersion('/stats', 'get', { summary: "statistics, as Triton's statistics extension", tags: ['statistics'], ok: ok(ref('ModelStatistics')), errors: COMMON }, 'modelStatistics'),
  ...perVersion('/config', 'get', { summary: "the model configuration in Triton's ModelConfig JSON shape", tags: ['models'], ok: ok(anyObject), errors: COMMON }, 'modelConfig'),
  ...perVersion(
    '/infer',
    'post',
    {
      summary: 'inference (without a version: the newest ready one)',
      tags: ['inference'],
      body: inferBody,
      bodyRequired: true,
      ok: inferOk,
      errors: INFER_ERRORS,
      params: ['InferenceHeaderContentLength'],
    },
    'modelInfer',
  ),
  '/v1/models/{model_name}:predict': {
    post: op(
      {
        summary: 'KServe v1 / TF Serving predict: {"instances": [...]} → {"predictions": [...]}',
        tags: ['inference'],
        params: model,
        body: json({ type: 'object', required: ['instances'], properties: { instances: { type: 'array' } } }),
        bodyRequired: true,
        ok: ok({ type: 'object', required: ['predictions'], properties: { predictions: { type: 'array' } } }, 'OK', { 'x-request-id': { $ref: '#/components/headers/RequestId' } }),
        errors: INFER_ERRORS,
      },
      'v1Predict',
    ),
  },
  '/v2/repository/index': {
    post: op(
      {
        summary: 'every model version and route with its state',
        tags: ['repository'],
        body: json({ type: 'object', properties: { ready: { type: 'boolean', description: 'only ready versions' } } }),
        ok: ok({ type: 'array', items: ref('IndexEntry') }),
        errors: COMMON,
        admin: true,
      },
      'repositoryIndex',
    ),
  },
  '/v2/repository/models/{model_name}/load': {
    post: op(
      {
        summary: '(re)load a model, optionally with a config override',
        tags: ['repository'],
        params: model,
        body: json({ type: 'object', properties: { parameters: { type: 'object', properties: { config: { type: 'string', description: "a Triton ModelConfig as JSON text" } } } } }),
        ok: EMPTY_OK,
        errors: [...COMMON, 409, 503],
        admin: true,
      },
      'repositoryLoad',
    ),
  },
  '/v2/repository/models/{model_name}/unload': {
    post: op({ summary: 'unload a model; in-flight requests finish (a body is ignored)', tags: ['repository'], params: model, ok: EMPTY_OK, errors: [...COMMON, 409], admin: true }, 'repositoryUnload'),
  },
  '/v2/feedback': {
    post: op(
      {
        summary: 'ground truth labels and bandit rewards for earlier requests, one or an array',
        tags: ['monitoring'],
        // in an array each item is answered on its own (a bad one is an error in `results`), so the array takes any items
        body: json({ oneOf: [ref('Feedback'), { type: 'array', maxItems: 10000, items: {} }] }),
        bodyRequired: true,
        ok: ok({ oneOf: [ref('FeedbackResult'), { type: 'object', required: ['results'], properties: { results: { type: 'array', items: anyObject } } }] }),
        errors: [...COMMON, 413, 503],
      },
      'feedback',
    ),
  },
  '/v2/trace/setting': traceOps([], 'TraceSettings'),
  '/v2/models/{model_name}/trace/setting': traceOps(model, 'ModelTraceSettings'),
  '/v2/logging': {
    get: op({ summary: 'log settings', tags: ['logging'], ok: ok(ref('LogSettings')), errors: [405] }, 'getLogSettings'),
    post: op({ summary: 'change some log settings; answers all', tags: ['logging'], body: json(ref('LogSettingsUpdate')), ok: ok(ref('LogSettings')), errors: COMMON, admin: true }, 'updateLogSettings'),
  },
  ...shmPaths('system'),
  ...shmPaths('cuda'),
  '/admin/routes': { get: op({ summary: 'every route: config and live state', tags: ['routes'], ok: ok({ type: 'object', required: ['routes'], properties: { routes: { type: 'array', items: anyObject } } }), errors: [405], admin: true }, 'listRoutes') },
  '/admin/routes/{route_name}': {
    get: op({ summary: 'one route: config, canary state, arm statistics', tags: ['routes'], params: ['route_name'], ok: ok(anyObject), errors: COMMON, admin: true }, 'getRoute'),
    put: op({ summary: 'create or replace a route (body: the route spec)', tags: ['routes'], params: ['route_name', 'IfMatch'], body: json(anyObject), bodyRequired: true, ok: ok(anyObject), errors: [...COMMON, 409, 413, 503], admin: true }, 'putRoute'),
    patch: op({ summary: 'change part of a route (JSON merge patch)', tags: ['routes'], params: ['route_name', 'IfMatch'], body: json(anyObject), bodyRequired: true, ok: ok(anyObject), errors: [...COMMON, 409, 413, 503], admin: true }, 'patchRoute'),
    delete: op({ summary: 'delete a route', tags: ['routes'], params: ['route_name', 'IfMatch'], ok: { '200': { description: 'deleted', content: json(anyObject) }, '204': { description: 'deleted' } }, errors: [...COMMON, 409, 503], admin: true }, 'deleteRoute'),
  },
  '/admin/routes/{route_name}/{action}': {
    post: op(
      {
        summary: 'pause, resume, promote or roll back a route',
        tags: ['routes'],
        params: ['route_name', 'action', 'IfMatch'],
        ok: ok(anyObject),
        errors: [...COMMON, 409, 503],
        admin: true,
      },
      'routeAction',
    ),
  },
  '/admin/audit': {
    get: op(
      {
        summary: 'who changed which route, when, before and after',
        tags: ['routes'],
        params: ['audit_limit'],
        ok: ok({ type: 'object', required: ['entries'], properties: { entries: { type: 'array', items: anyObject } } }),
        errors: [400, 405, 503],
        admin: true,
      },
      'audit',
    ),
  },
  '/metrics': { get: op({ summary: 'Prometheus metrics (text exposition format)', tags: ['monitoring'], ok: { '200': { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } } }, errors: [405, 500] }, 'metrics') },
};


const str: Json = { type: 'string' };
/** model and route names, as repository/paths.ts checks them */
const NAME: Json = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$' };
const int: Json = { type: 'integer' };
const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'];
const shape: Json = { type: 'array', items: { type: 'integer', minimum: -1 } };
const pathParam = (name: string, description: string, schema: Json = { type: 'string', minLength: 1 }): Json => ({ name, in: 'path', required: true, description, schema });
const stat: Json = { type: 'object', required: ['count', 'ns'], properties: { count: int, ns: int } };

const schemas: Record<string, Json> = {
  Error: {
    type: 'object',
    required: ['error', 'code'],
    properties: { error: { type: 'string', description: 'what was wrong and what was expected' }, code: { type: 'string', pattern: '^SY_ERR_[A-Z_]+$' } },
  },
  Parameters: { type: 'object', description: 'protocol parameters: string, number or boolean values' },
  InferInput: {
    type: 'object',
    required: ['name', 'shape', 'datatype'],
    properties: {
      name: str,
      shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
      datatype: { type: 'string', enum: DATATYPES },
      parameters: ref('Parameters'),
      data: { description: 'flat or nested, in row-major order; absent when `parameters.binary_data_size` sends it as binary', type: 'array' },
    },
  },
  InferRequestedOutput: { type: 'object', required: ['name'], properties: { name: str, parameters: ref('Parameters') } },
  InferRequest: {
    type: 'object',
    required: ['inputs'],
    properties: {
      id: str,
      parameters: ref('Parameters'),
      inputs: { type: 'array', items: ref('InferInput') },
      outputs: { type: 'array', items: ref('InferRequestedOutput') },
    },
  },
  InferOutput: {
    type: 'object',
    required: ['name', 'shape', 'datatype'],
    properties: { name: str, shape, datatype: { type: 'string', enum: DATATYPES }, parameters: ref('Parameters'), data: { type: 'array' } },
  },
  InferResponse: {
    type: 'object',
    required: ['model_name', 'outputs'],
    properties: { model_name: str, model_version: str, id: str, parameters: ref('Parameters'), outputs: { type: 'array', items: ref('InferOutput') } },
  },
  ServerReady: { type: 'object', required: ['ready'], properties: { ready: { type: 'boolean' } } },
  ServerMetadata: { type: 'object', required: ['name', 'version', 'extensions'], properties: { name: str, version: str, extensions: { type: 'array', items: str } } },
  TensorMetadata: { type: 'object', required: ['name', 'datatype', 'shape'], properties: { name: str, datatype: str, shape } },
  ModelMetadata: {
    type: 'object',
    required: ['name', 'platform', 'inputs', 'outputs'],
    properties: {
      name: str,
      versions: { type: 'array', items: str },
      platform: str,
      inputs: { type: 'array', items: ref('TensorMetadata') },
      outputs: { type: 'array', items: ref('TensorMetadata') },
      parameters: ref('Parameters'),
    },
  },
  ModelReady: { type: 'object', required: ['name', 'ready'], properties: { name: str, version: str, ready: { type: 'boolean' } } },
  ModelStatistics: {
    type: 'object',
    required: ['model_stats'],
    properties: {
      model_stats: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'version', 'last_inference', 'inference_count', 'execution_count', 'inference_stats', 'batch_stats'],
          properties: {
            name: str,
            version: str,
            last_inference: int,
            inference_count: int,
            execution_count: int,
            inference_stats: { type: 'object', additionalProperties: stat },
            batch_stats: { type: 'array', items: anyObject },
          },
        },
      },
    },
  },
  IndexEntry: {
    type: 'object',
    required: ['name', 'version', 'state', 'reason'],
    properties: { name: str, version: str, state: { type: 'string', enum: ['READY', 'UNAVAILABLE', 'LOADING', 'UNLOADING'] }, reason: str },
  },
  Feedback: {
    type: 'object',
    required: ['id'],
    anyOf: [{ required: ['label'] }, { required: ['reward'] }],
    additionalProperties: false,
    properties: { id: { type: 'string', minLength: 1 }, label: { description: 'the ground truth for the prediction of request `id`: a number, true/false, or one per row', anyOf: [{ type: 'number' }, { type: 'boolean' }, { type: 'array', minItems: 1, items: { anyOf: [{ type: 'number' }, { type: 'boolean' }] } }] }, reward: { type: 'number', description: "a bandit reward for the route's arm that served `id`" } },
  },
  FeedbackResult: { type: 'object', required: ['id'], properties: { id: str, label: {}, reward: { type: 'string', nullable: true, enum: ['credited', 'duplicate', 'unknown', null] } } },
  TraceSettings: { type: 'object', properties: { trace_level: { type: 'array', items: str }, trace_rate: str, trace_count: str, log_frequency: str, trace_file: str, trace_mode: str } },
  TraceSettingsUpdate: {
    type: 'object',
    description: 'keys of TraceSettings with their new values; null clears a key',
    additionalProperties: false,
    properties: Object.fromEntries(['trace_level', 'trace_rate', 'trace_count', 'log_frequency', 'trace_file', 'trace_mode'].map((k) => [k, { nullable: true, anyOf: [str, int, { type: 'array', items: str }] }])),
  },
  LogSettingsUpdate: {
    type: 'object',
    additionalProperties: false,
    description: 'keys of LogSettings with their new values; null leaves a key as it is',
    properties: {
      log_file: { type: 'string', nullable: true },
      log_info: { type: 'boolean', nullable: true },
      log_warning: { type: 'boolean', nullable: true },
      log_error: { type: 'boolean', nullable: true },
      log_verbose_level: { type: 'integer', minimum: 0, nullable: true },
      log_format: { type: 'string', enum: ['default', null], nullable: true },
    },
  },
  LogSettings: {
    type: 'object',
    properties: { log_file: str, log_info: { type: 'boolean' }, log_warning: { type: 'boolean' }, log_error: { type: 'boolean' }, log_verbose_level: int, log_format: str },
  },
  SharedMemoryRegion: { type: 'object', required: ['name', 'key', 'offset', 'byte_size'], properties: { name: str, key: str, offset: int, byte_size: int } },
  SharedMemoryRegister: {
    type: 'object',
    required: ['key', 'byte_size'],
    additionalProperties: false,
    properties: { key: str, offset: { type: 'integer', minimum: 0 }, byte_size: { type: 'integer', minimum: 1 } },
  },
};

const responses: Record<string, Json> = Object.fromEntries(
  Object.entries(ERROR_TEXT).map(([code, description]) => [
    `E${code}`,
    { description, headers: { 'x-switchyard-error': { $ref: '#/components/headers/SwitchyardError' } }, content: json(ref('Error')) },
  ]),
);

export const OPENAPI_DOCUMENT: Readonly<Json> = Object.freeze({
  openapi: '3.0.3',
  info: {
    title: 'switchyard REST API',
    version: '1',
    description:
      'KServe v2 / Open Inference Protocol REST with Triton\'s extensions (binary tensors, repository, statistics, shared memory, trace, logging), the KServe v1 predict shim, feedback and route administration. Every error is `{"error", "code"}` with the code also in the `x-switchyard-error` header. Admin operations need `Authorization: Bearer <admin_token>`; with no token configured, loopback clients may call them without one.',
  },
  paths,
  components: {
    schemas,
    responses,
    parameters: {
      model_name: pathParam('model_name', 'a model or route name', NAME),
      model_version: pathParam('model_version', 'a version: a positive integer', { type: 'string', pattern: '^[1-9][0-9]{0,17}$' }),
      region_name: pathParam('region_name', 'a shared memory region name: 1 to 256 characters, no NUL', { type: 'string', pattern: '^[^\\u0000]{1,256}$' }),
      route_name: pathParam('route_name', 'a route name', NAME),
      action: pathParam('action', 'what to do to the route', { type: 'string', enum: ['pause', 'resume', 'promote', 'rollback'] }),
      audit_limit: { name: 'limit', in: 'query', required: false, description: 'newest entries to answer (default 100)', schema: { type: 'integer', minimum: 1, maximum: 10000 } },
      IfMatch: {
        name: 'If-Match',
        in: 'header',
        required: false,
        description:
          'optimistic concurrency: the `revision` of the route as last read ("0": the route must not exist); when it is at another revision nothing changes and the answer is 409 with the route as it is now in `current`',
        schema: { type: 'string', pattern: '^(W/)?"?[0-9]{1,15}"?$' },
      },
      InferenceHeaderContentLength: {
        name: 'Inference-Header-Content-Length',
        in: 'header',
        required: false,
        description: 'binary tensor extension: the length of the JSON header that starts an `application/octet-stream` body',
        schema: { type: 'integer', minimum: 0 },
      },
    },
    headers: {
      RequestId: { description: "the request's id (the client's `id` or `x-request-id`, or generated)", schema: str },
      SwitchyardError: { description: 'the error code, as in the body', required: true, schema: { type: 'string', pattern: '^SY_ERR_[A-Z_]+$' } },
    },
    securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'the configured admin_token (SWITCHYARD_ADMIN_TOKEN)' } },
  },
});

/** The document as the JSON text `GET /v2/openapi.json` answers. */
export const OPENAPI_JSON: string = JSON.stringify(OPENAPI_DOCUMENT);
