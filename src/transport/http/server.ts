import { totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { GatewayError, toGatewayError } from '../../core/errors.js';
import type { InferRequest } from '../../core/request.js';
import type { Gateway } from '../../gateway.js';
import { decodeInferRequest, decodeV1Predict, encodeInferResponse, encodeV1Predict, parseControlJson } from '../../protocol/index.js';
import { checkModelName, checkVersion } from '../../repository/index.js';
import { BodyBudget, contentLengthOf, readBody } from './body.js';
import { responseCoding } from './compression.js';
import { Exchange } from './reply.js';
import { uws, type HttpRequest, type HttpResponse, type TemplatedApp, type us_listen_socket } from './uws.js';
import { checkAdminAccess } from '../admin-auth.js';
import { loadOverride } from '../load-parameters.js';
import { registerStream, type StreamDoor } from '../ws/index.js';
import { decodeSegment } from './json-endpoint.js';
import { registerRouteAdmin } from './route-admin.js';
import { registerSettingsRoutes } from './settings-routes.js';
import { registerSharedMemoryRoutes } from './shm-routes.js';
import { OPENAPI_JSON } from './openapi.js';
import { RouteTable, recordRoutes } from './route-table.js';

/** uWS ListenOptions: bind without SO_REUSEPORT (the package exports the value, its typings only a const enum) */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

const EXTENSIONS = ['binary_tensor_data', 'model_repository', 'model_configuration', 'statistics', 'parameters', 'classification', 'system_shared_memory', 'trace', 'logging'];

/** URL path parameters arrive percent-encoded; decode them before any name check. */
function param(req: HttpRequest, i: number): string {
  return decodeSegment(req.getParameter(i) ?? '');
}

function modelParam(req: HttpRequest, i: number): string {
  const name = param(req, i);
  checkModelName(name);
  return name;
}

function versionParam(req: HttpRequest, i: number): string {
  const v = param(req, i);
  checkVersion(v);
  return v;
}

/**
 * The REST door: KServe v2 (Open Inference Protocol) with Triton's binary tensor extension,
 * the repository extension, the v1 `:predict` shim and /metrics, on uWebSockets.js.
 */
export class HttpServer {
  private readonly gateway: Gateway;
  private readonly app: TemplatedApp;
  private readonly bodyLimit: number;
  private readonly bodyBudget: BodyBudget;
  private closed = false;
  private listenSocket: us_listen_socket | null = null;
  private stream: StreamDoor | null = null;
  /** every REST route registered, in order (the 405 answer and the OpenAPI test read it) */
  readonly routeTable = new RouteTable();
  port = 0;

  constructor(gateway: Gateway) {
    this.gateway = gateway;
    this.bodyLimit = gateway.config.http.max_body_bytes;
    const budget = gateway.config.http.max_inflight_body_bytes;
    this.bodyBudget = new BodyBudget(budget > 0 ? budget : Math.floor(totalmem() / 4));
    this.app = uws.App();
    this.routes();
  }

  /**
   * Binds the HTTP port. uWS sets SO_REUSEPORT unless told the port is exclusive, and then a
   * second gateway on the same port binds silently and takes half the connections; so the
   * port is exclusive unless http.reuse_port asks to share it.
   */
  listen(host: string, port: number): Promise<number> {
    const reusePort = this.gateway.config.http.reuse_port;
    return new Promise((resolve, reject) => {
      // uWS.js takes (host, port, options, cb) although its typings list options only without a host
      const listen = this.app.listen as unknown as (h: string, p: number, options: number, cb: (token: us_listen_socket | false) => void) => void;
      listen.call(this.app, host, port, reusePort ? 0 : LIBUS_LISTEN_EXCLUSIVE_PORT, (token) => {
        if (token === false) {
          const hint = reusePort ? 'in use by a process that did not set SO_REUSEPORT, or not allowed' : 'in use (another gateway? set http.reuse_port: true to share it on purpose), or not allowed';
          reject(new Error(`cannot listen on http ${host}:${port} (${hint}); set http.port or SWITCHYARD_HTTP_PORT`));
          return;
        }
        this.listenSocket = token;
        this.port = uws.us_socket_local_port(token as unknown as Parameters<typeof uws.us_socket_local_port>[0]);
        resolve(this.port);
      });
    });
  }

  /**
   * Stops accepting connections (open keep-alive connections finish their requests) and
   * closes WebSocket streams with 1001; called after the gateway drained.
   */
  close(): void {
    this.closed = true;
    this.stream?.closeAll();
    if (this.listenSocket !== null) {
      uws.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
    }
  }

  private routes(): void {
    const app = recordRoutes(this.app, this.routeTable);
    const g = this.gateway;
    const get = (pattern: string, fn: (ex: Exchange, req: HttpRequest) => void): void => {
      app.get(pattern, (res, req) => this.guard(res, req, fn));
    };
    const post = (pattern: string, fn: (ex: Exchange, req: HttpRequest) => void): void => {
      app.post(pattern, (res, req) => this.guard(res, req, fn));
    };

    get('/v2/health/live', (ex) => ex.json(200, { live: true }));
    get('/v2/health/ready', (ex) => ex.json(g.ready ? 200 : 503, { ready: g.ready }));
    get('/v2', (ex) => ex.json(200, g.serverMetadata(EXTENSIONS)));
    get('/v2/openapi.json', (ex) => ex.send(200, 'application/json', OPENAPI_JSON));
    get('/v2/models/:model', (ex, req) => ex.json(200, g.modelMetadata(modelParam(req, 0), null)));
    get('/v2/models/:model/versions/:version', (ex, req) => ex.json(200, g.modelMetadata(modelParam(req, 0), versionParam(req, 1))));
    get('/v2/models/:model/ready', (ex, req) => this.modelReady(ex, modelParam(req, 0), null));
    get('/v2/models/:model/versions/:version/ready', (ex, req) => this.modelReady(ex, modelParam(req, 0), versionParam(req, 1)));
    get('/v2/models/stats', (ex) => ex.json(200, { model_stats: g.statistics(null, null) }));
    get('/v2/models/:model/stats', (ex, req) => ex.json(200, { model_stats: g.statistics(modelParam(req, 0), null) }));
    get('/v2/models/:model/versions/:version/stats', (ex, req) => ex.json(200, { model_stats: g.statistics(modelParam(req, 0), versionParam(req, 1)) }));
    get('/v2/models/:model/config', (ex, req) => ex.json(200, g.modelConfig(modelParam(req, 0), null)));
    get('/v2/models/:model/versions/:version/config', (ex, req) => ex.json(200, g.modelConfig(modelParam(req, 0), versionParam(req, 1))));
    post('/v2/models/:model/infer', (ex, req) => this.infer(ex, req, modelParam(req, 0), null));
    post('/v2/models/:model/versions/:version/infer', (ex, req) => this.infer(ex, req, modelParam(req, 0), versionParam(req, 1)));
    post('/v1/models/:spec', (ex, req) => this.v1Predict(ex, req));

    post('/v2/repository/index', (ex, req) => this.admin(ex, req, (body) => {
      const ready = parseIndexBody(body);
      ex.json(200, g.index(ready));
    }));
    post('/v2/repository/models/:model/load', (ex, req) => {
      const name = modelParam(req, 0);
      this.admin(ex, req, (body) => {
        g.load(name, parseLoadBody(body)).then(
          () => ex.json(200, {}),
          (e: unknown) => ex.error(e),
        );
      });
    });
    post('/v2/repository/models/:model/unload', (ex, req) => {
      const name = modelParam(req, 0);
      this.admin(ex, req, () => {
        g.unload(name).then(
          () => ex.json(200, {}),
          (e: unknown) => ex.error(e),
        );
      });
    });

    post('/v2/feedback', (ex, req) => this.feedback(ex, req));
    registerRouteAdmin(app, g);
    registerSharedMemoryRoutes(app, g);
    registerSettingsRoutes(app, g);

    get('/metrics', (ex) => {
      g.metrics.text().then(
        (text) => ex.send(200, g.metrics.contentType, text),
        (e: unknown) => ex.error(e),
      );
    });

    this.stream = registerStream(app, g);

    app.any('/*', (res, req) => {
      const ex = new Exchange(res);
      const method = (req.getCaseSensitiveMethod ? req.getCaseSensitiveMethod() : req.getMethod()).toUpperCase();
      const url = req.getUrl();
      const allowed = this.routeTable.methodsFor(url);
      if (allowed.length > 0) {
        const allow = allowed.join(', ');
        ex.error(new GatewayError('SY_ERR_METHOD_NOT_ALLOWED', `${method.slice(0, 20)} is not a method of ${url.slice(0, 200)}; it answers ${allow}`), null, false, [['allow', allow]]);
        return;
      }
      ex.error(new GatewayError('SY_ERR_NOT_FOUND', `no endpoint ${method} ${url.slice(0, 200)}; see GET /v2, GET /v2/openapi.json and the README's API section`));
    });
  }

  /** Every handler runs inside this: a throw becomes the error response, never a crash. */
  private guard(res: HttpResponse, req: HttpRequest, fn: (ex: Exchange, req: HttpRequest) => void): void {
    // after close(), a request on a connection still open gets no answer: the gateway is
    // stopping and could no longer count or log it (draining 503s closed their connections)
    if (this.closed) {
      res.close();
      return;
    }
    const ex = new Exchange(res);
    try {
      fn(ex, req);
    } catch (e) {
      ex.error(e);
    }
  }

  private modelReady(ex: Exchange, model: string, version: string | null): void {
    const ready = this.gateway.modelReady(model, version);
    ex.json(ready ? 200 : 400, { name: model, ...(version === null ? {} : { version }), ready });
  }

  private infer(ex: Exchange, req: HttpRequest, model: string, version: string | null): void {
    const receivedAt = performance.now();
    // read now: uWS's HttpRequest is invalid once this handler returns, and errors come later
    const requestId = req.getHeader('x-request-id');
    ex.onError = (err) => this.gateway.rejected({ protocol: 'rest', model, version, id: requestId, receivedAt }, err);
    const headerLength = parseHeaderLength(req.getHeader('inference-header-content-length'));
    const traceparent = req.getHeader('traceparent');
    const headers = this.gateway.isRoute(model) ? routingHeaders(req, this.gateway.routingHeaders()) : null;
    ex.coding = responseCoding(req.getHeader('accept-encoding'));
    readBody(ex, contentLengthOf(req), this.bodyLimit, (body) => {
      let r: InferRequest;
      try {
        r = decodeInferRequest(body, headerLength, model, version, receivedAt);
        if (traceparent !== '') r.traceparent = traceparent;
        r.headers = headers;
      } catch (e) {
        ex.error(e, requestId);
        return;
      }
      if (r.id === '' && requestId !== '') r.id = requestId.slice(0, 256);
      this.run(ex, r, false);
    }, req.getHeader('content-encoding'), this.bodyBudget);
  }

  private v1Predict(ex: Exchange, req: HttpRequest): void {
    const receivedAt = performance.now();
    const spec = param(req, 0);
    if (!spec.endsWith(':predict')) {
      throw new GatewayError('SY_ERR_NOT_FOUND', `no endpoint POST /v1/models/${spec.slice(0, 130)}; the v1 API is POST /v1/models/<model>:predict`);
    }
    const model = spec.slice(0, -':predict'.length);
    checkModelName(model);
    const requestId = req.getHeader('x-request-id');
    ex.onError = (err) => this.gateway.rejected({ protocol: 'rest', model, version: null, id: requestId, receivedAt }, err);
    ex.coding = responseCoding(req.getHeader('accept-encoding'));
    readBody(ex, contentLengthOf(req), this.bodyLimit, (body) => {
      let r: InferRequest;
      try {
        const signature = this.gateway.signature(model);
        r = decodeV1Predict(body, model, signature, receivedAt);
      } catch (e) {
        ex.error(e, requestId);
        return;
      }
      if (requestId !== '') r.id = requestId.slice(0, 256);
      this.run(ex, r, true);
    }, req.getHeader('content-encoding'), this.bodyBudget);
  }

  private run(ex: Exchange, r: InferRequest, v1: boolean): void {
    ex.onError = null; // the gateway counts what happens from here
    ex.onAbort = () => r.cancel();
    this.gateway.infer(r).then(
      (resp) => {
        if (ex.aborted) return;
        if (v1) {
          ex.sendCompressible(200, 'application/json', encodeV1Predict(resp), [['x-request-id', resp.id]]);
          return;
        }
        // NaN and ±Infinity as bare tokens, as Triton writes them (its JSON writer's kWriteNanAndInfFlag)
        const out = encodeInferResponse(resp, r, 'token');
        const headers: [string, string][] = [['x-request-id', resp.id]];
        // a route's response names the target that served it
        if (resp.parameters !== null && resp.parameters.route !== undefined) headers.push(['x-switchyard-target', `${resp.modelName}:${resp.modelVersion}`]);
        if (out.headerLength === null) {
          ex.sendCompressible(200, 'application/json', out.body, headers);
        } else {
          headers.push(['inference-header-content-length', String(out.headerLength)]);
          ex.sendCompressible(200, 'application/octet-stream', out.body, headers);
        }
      },
      (e: unknown) => {
        if (!ex.aborted) ex.error(e, r.id);
      },
    );
  }

  /**
   * POST /v2/feedback: one `{"id", "label"|"reward"}` object (200 with what happened, 404
   * when the id is unknown) or an array of them (200 with one result or error per item).
   */
  private feedback(ex: Exchange, req: HttpRequest): void {
    readBody(ex, contentLengthOf(req), 16 << 20, (body) => {
      let parsed: unknown;
      try {
        parsed = parseJsonBody(body, 'feedback');
      } catch (e) {
        ex.error(e);
        return;
      }
      const g = this.gateway;
      if (!Array.isArray(parsed)) {
        g.feedback(parsed).then(
          (r) => ex.json(200, r),
          (e: unknown) => ex.error(e),
        );
        return;
      }
      if (parsed.length > 10_000) {
        ex.error(new GatewayError('SY_ERR_BAD_REQUEST', `feedback array has ${parsed.length} items; send at most 10000 per request`));
        return;
      }
      Promise.all(parsed.map((item) => g.feedback(item).then((r): Record<string, unknown> => ({ ...r }), (e: unknown) => ({ id: idOf(item), error: toGatewayError(e).message })))).then(
        (results) => ex.json(200, { results }),
        (e: unknown) => ex.error(e),
      );
    });
  }

  /**
   * Repository control is an admin operation: it needs `Authorization: Bearer <admin_token>`,
   * or, with no token configured, a loopback client.
   */
  private admin(ex: Exchange, req: HttpRequest, fn: (body: Buffer) => void): void {
    checkAdminAccess(this.gateway.config.admin_token, req.getHeader('authorization'), Buffer.from(ex.res.getRemoteAddressAsText()).toString());
    readBody(ex, contentLengthOf(req), 1 << 20, (body) => {
      try {
        fn(body);
      } catch (e) {
        ex.error(e);
      }
    });
  }
}

function parseHeaderLength(h: string): number | null {
  if (h === '') return null;
  const n = Number(h);
  if (!Number.isInteger(n) || n < 0) {
    throw new GatewayError('SY_ERR_BAD_REQUEST', `Inference-Header-Content-Length must be a non-negative integer, got ${JSON.stringify(h.slice(0, 40))}`);
  }
  return n;
}

function parseIndexBody(body: Buffer): boolean {
  if (body.byteLength === 0) return false;
  const parsed = parseControlJson(body, 'repository index');
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayError('SY_ERR_BAD_REQUEST', 'repository index body must be a JSON object such as {"ready": true}');
  }
  const ready = (parsed as Record<string, unknown>).ready;
  if (ready !== undefined && typeof ready !== 'boolean') throw new GatewayError('SY_ERR_BAD_REQUEST', `"ready" must be true or false, got ${JSON.stringify(ready)}`);
  return ready === true;
}

/**
 * A load request's body: empty, or `{"parameters": {"config": "<model config JSON>"}}` (Triton's
 * `load_model(name, config=...)`). Returns the override's text, or null. Triton's `file:`
 * parameters (model files sent in the request) are refused: switchyard loads from its repository.
 */
function parseLoadBody(body: Buffer): string | null {
  if (body.byteLength === 0) return null;
  const parsed = parseJsonBody(body, 'load');
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayError('SY_ERR_BAD_REQUEST', 'the load body must be a JSON object such as {"parameters": {"config": "{\\"max_batch_size\\": 16}"}}, or empty');
  }
  for (const k of Object.keys(parsed)) {
    if (k !== 'parameters') throw new GatewayError('SY_ERR_BAD_REQUEST', `the load body has an unknown field "${k.slice(0, 64)}"; expected only "parameters"`);
  }
  const params = (parsed as { parameters?: unknown }).parameters;
  if (params === undefined) return null;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new GatewayError('SY_ERR_BAD_REQUEST', '"parameters" of a load request must be a JSON object');
  return loadOverride(Object.entries(params as Record<string, unknown>));
}

function parseJsonBody(body: Buffer, what: string): unknown {
  return parseControlJson(body, what);
}

/** The id of a feedback item as the answer echoes it: a string (capped), else null. */
function idOf(item: unknown): string | null {
  const id = item !== null && typeof item === 'object' && 'id' in item ? (item as { id: unknown }).id : null;
  return typeof id === 'string' ? id.slice(0, 256) : null;
}

/** The routing headers (sticky key, x-switchyard-target) the request carries, or null. */
function routingHeaders(req: HttpRequest, names: readonly string[]): Record<string, string> | null {
  let out: Record<string, string> | null = null;
  for (const name of names) {
    const v = req.getHeader(name);
    if (v !== '') (out ??= {})[name] = v;
  }
  return out;
}
