/**
 * Triton's trace and logging extensions over REST:
 *
 *   GET  /v2/trace/setting                 global trace settings
 *   POST /v2/trace/setting                 admin; change some, answer all ({"trace_rate": "10"}; null clears)
 *   GET  /v2/models/{m}/trace/setting      a model's (or route's) settings: its own over the global ones
 *   POST /v2/models/{m}/trace/setting      admin; null clears a key of the model's own settings
 *   GET  /v2/logging                       log settings
 *   POST /v2/logging                       admin; change some, answer all ({"log_verbose_level": 1})
 *
 * The settings live in the Gateway (telemetry/trace-settings.ts, telemetry/log-settings.ts);
 * the TraceSetting and LogSettings rpcs answer the same.
 */
import type { TemplatedApp } from './uws.js';
import type { Gateway } from '../../gateway.js';
import { checkModelName } from '../../repository/index.js';
import { logChangesFromJson, traceChangesFromJson } from '../../telemetry/index.js';
import { jsonEndpoint } from './json-endpoint.js';

/** A model or route the gateway knows (404 otherwise); its trace settings are keyed by this name. */
function knownModel(gateway: Gateway, name: string): string {
  checkModelName(name);
  gateway.modelReady(name, null); // throws the unknown-model 404
  return name;
}

/** An empty body changes nothing; a `null` body is not empty but not an object either (a 400). */
function orEmpty(body: unknown): unknown {
  return body === undefined ? {} : body;
}

export function registerSettingsRoutes(app: TemplatedApp, gateway: Gateway): void {
  const read = { admin: false, body: false };
  const change = { admin: true, body: true };
  const trace = () => gateway.traceSettings;

  app.get('/v2/trace/setting', jsonEndpoint(gateway, 0, read, () => trace().get(null)));
  app.post(
    '/v2/trace/setting',
    jsonEndpoint(gateway, 0, change, (_p, body) => {
      trace().update(null, traceChangesFromJson(orEmpty(body)));
      return trace().get(null);
    }),
  );
  app.get('/v2/models/:model/trace/setting', jsonEndpoint(gateway, 1, read, ([m]) => trace().get(knownModel(gateway, m))));
  app.post(
    '/v2/models/:model/trace/setting',
    jsonEndpoint(gateway, 1, change, ([m], body) => {
      const model = knownModel(gateway, m);
      trace().update(model, traceChangesFromJson(orEmpty(body)));
      return trace().get(model);
    }),
  );

  app.get('/v2/logging', jsonEndpoint(gateway, 0, read, () => gateway.logSettings.get()));
  app.post(
    '/v2/logging',
    jsonEndpoint(gateway, 0, change, (_p, body) => {
      gateway.logSettings.update(logChangesFromJson(orEmpty(body)));
      return gateway.logSettings.get();
    }),
  );
}
