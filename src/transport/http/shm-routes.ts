/**
 * Triton's shared memory extension over REST:
 *
 *   GET  /v2/systemsharedmemory[/region/{name}]/status       registered regions: [{name, key, offset, byte_size}]
 *   POST /v2/systemsharedmemory/region/{name}/register       admin; body {"key": "/shm_key", "offset": 0, "byte_size": n}
 *   POST /v2/systemsharedmemory[/region/{name}]/unregister   admin; one region, or all
 *   GET  /v2/cudasharedmemory[/region/{name}]/status         [] (no CUDA regions)
 *   POST /v2/cudasharedmemory/region/{name}/register         400: not supported
 *   POST /v2/cudasharedmemory[/region/{name}]/unregister     200 (nothing to unregister)
 *
 * The regions live in the Gateway (protocol/shared-memory.ts); the gRPC rpcs answer the same.
 */
import type { TemplatedApp } from './uws.js';
import { GatewayError } from '../../core/errors.js';
import type { Gateway } from '../../gateway.js';
import { checkRegionName, cudaRegionNotFound, cudaSharedMemoryUnsupported } from '../../protocol/index.js';
import { jsonEndpoint } from './json-endpoint.js';

const REGISTER_FIELDS = ['key', 'offset', 'byte_size'];

function register(gateway: Gateway, name: string, body: unknown): Record<string, never> {
  checkRegionName(name);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError('SY_ERR_BAD_REQUEST', 'the register body must be a JSON object {"key": "/shm_key", "offset": 0, "byte_size": <bytes>}');
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!REGISTER_FIELDS.includes(k)) throw new GatewayError('SY_ERR_BAD_REQUEST', `the register body has an unknown field ${JSON.stringify(k.slice(0, 64))}; expected "key", "offset" and "byte_size"`);
  }
  if (b.key === undefined) throw new GatewayError('SY_ERR_BAD_REQUEST', "Shared memory register request has no 'key' field; send {\"key\": \"/shm_key\", \"offset\": 0, \"byte_size\": <bytes>}");
  if (b.byte_size === undefined) throw new GatewayError('SY_ERR_BAD_REQUEST', "Shared memory register request has no 'byte_size' field; send the size of the region in bytes");
  gateway.sharedMemory.register(name, b.key, b.offset, b.byte_size);
  return {};
}

export function registerSharedMemoryRoutes(app: TemplatedApp, gateway: Gateway): void {
  const shm = gateway.sharedMemory;
  const read = { admin: false, body: false };
  const change = { admin: true, body: true };

  app.get('/v2/systemsharedmemory/status', jsonEndpoint(gateway, 0, read, () => shm.status(null)));
  app.get('/v2/systemsharedmemory/region/:name/status', jsonEndpoint(gateway, 1, read, ([name]) => shm.status(name)));
  app.post('/v2/systemsharedmemory/region/:name/register', jsonEndpoint(gateway, 1, change, ([name], body) => register(gateway, name, body)));
  app.post(
    '/v2/systemsharedmemory/unregister',
    jsonEndpoint(gateway, 0, change, () => {
      shm.unregister(null);
      return {};
    }),
  );
  app.post(
    '/v2/systemsharedmemory/region/:name/unregister',
    jsonEndpoint(gateway, 1, change, ([name]) => {
      shm.unregister(name);
      return {};
    }),
  );

  app.get('/v2/cudasharedmemory/status', jsonEndpoint(gateway, 0, read, () => []));
  app.get(
    '/v2/cudasharedmemory/region/:name/status',
    jsonEndpoint(gateway, 1, read, ([name]) => {
      throw cudaRegionNotFound(shm, name);
    }),
  );
  app.post(
    '/v2/cudasharedmemory/region/:name/register',
    jsonEndpoint(gateway, 1, { admin: false, body: true }, ([name]) => {
      throw cudaSharedMemoryUnsupported(name);
    }),
  );
  app.post('/v2/cudasharedmemory/unregister', jsonEndpoint(gateway, 0, { admin: false, body: true }, () => ({})));
  app.post('/v2/cudasharedmemory/region/:name/unregister', jsonEndpoint(gateway, 1, { admin: false, body: true }, () => ({})));
}
