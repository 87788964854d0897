/**
 * From a protocol, the target's endpoints and the request content to a driver factory (the
 * request is encoded once here; each step makes a driver with its own connection count),
 * and the connection and slot counts each step uses.
 */
import type { Driver } from './drivers/index.js';
import { GrpcStreamDriver, GrpcUnaryDriver, HttpDriver, WsDriver } from './drivers/index.js';
import { binaryBody, grpcRequest, jsonBody, wsMessageTail } from './encode.js';
import { modelPath } from './metadata.js';
import type { BenchOptions, LoadPlan, Protocol } from './options.js';
import type { RequestContent } from './tensors.js';

export interface Endpoints {
  /** HTTP base URL, no trailing slash */
  readonly url: string;
  /** host:port */
  readonly grpcAddress: string;
}

export type DriverFactory = (connections: number) => Driver;

/** Open loop: HTTP connections opened at most (undici opens them as needed). */
const OPEN_LOOP_HTTP_CONNECTIONS = 256;
/** Open loop: requests in flight at most over gRPC and WebSocket. */
const OPEN_LOOP_MAX_INFLIGHT = 1024;

/** Encodes the request for `protocol` and returns how to make drivers that send it. */
export function driverFactory(protocol: Protocol, endpoints: Endpoints, model: string, version: string | null, content: RequestContent): DriverFactory {
  // the HTTP URL is only read by the protocols that use it (a gRPC-only target has none)
  const http = (): { base: URL; prefix: string; inferPath: string } => {
    const base = new URL(endpoints.url);
    const prefix = base.pathname.replace(/\/+$/, '');
    return { base, prefix, inferPath: `${prefix}${modelPath(model, version)}/infer` };
  };
  switch (protocol) {
    case 'http': {
      const { base, inferPath } = http();
      const target = { origin: base.origin, path: inferPath, headers: { 'content-type': 'application/json' }, body: Buffer.from(jsonBody(content), 'utf8') };
      return (n) => new HttpDriver(target, n);
    }
    case 'http-binary': {
      const { base, inferPath } = http();
      const { body, headerLength } = binaryBody(content);
      const target = { origin: base.origin, path: inferPath, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) }, body };
      return (n) => new HttpDriver(target, n);
    }
    case 'grpc': {
      const body = grpcRequest(content, model, version);
      return (n) => new GrpcUnaryDriver(endpoints.grpcAddress, body, n);
    }
    case 'grpc-stream': {
      const body = grpcRequest(content, model, version);
      return (n) => new GrpcStreamDriver(endpoints.grpcAddress, body, n);
    }
    case 'ws': {
      const { base, prefix } = http();
      const url = `${base.protocol === 'https:' ? 'wss' : 'ws'}://${base.host}${prefix}/v2/stream`;
      const tail = wsMessageTail(content, model, version);
      return (n) => new WsDriver(url, tail, n);
    }
  }
}

/** Connections and slots (closed loop: the concurrency; open loop: the in-flight cap) of one step. */
export function stepShape(protocol: Protocol, plan: LoadPlan, value: number, options: Pick<BenchOptions, 'connections' | 'maxInflight'>): { connections: number; slots: number } {
  const http = protocol === 'http' || protocol === 'http-binary';
  if (plan.mode === 'concurrency') {
    // HTTP/1.1 carries one request per connection at a time; gRPC and WebSocket multiplex
    const connections = options.connections ?? (http ? value : 1);
    return { connections, slots: value };
  }
  if (http) {
    const connections = options.connections ?? OPEN_LOOP_HTTP_CONNECTIONS;
    return { connections, slots: options.maxInflight ?? connections };
  }
  return { connections: options.connections ?? 1, slots: options.maxInflight ?? OPEN_LOOP_MAX_INFLIGHT };
}
