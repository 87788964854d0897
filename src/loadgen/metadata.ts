/**
 * What the bench learns about its target before any load runs: the server (name, version,
 * extensions) and the model's signature, over HTTP (`GET /v2`, `GET /v2/models/{m}[/versions/{v}]`)
 * or gRPC (ServerMetadata, ModelMetadata). An unreachable server or a missing model is a
 * BenchError with a one-line message, so a mistyped URL never turns into a run of errors.
 */
import type { Client, ServiceError } from '@grpc/grpc-js';
import { request } from 'undici';
import { ModelMetadataRequestSchema, ModelMetadataResponseSchema, ServerMetadataRequestSchema, ServerMetadataResponseSchema } from '../gen/grpc_service_pb.js';
import { openChannels, statusName, unaryCall } from './drivers/index.js';
import { BenchError } from './errors.js';

export interface TensorSpec {
  readonly name: string;
  readonly datatype: string;
  /** -1 for a dynamic dimension */
  readonly shape: readonly number[];
}

/** KServe v2 model metadata. */
export interface ModelSignature {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** KServe v2 server metadata. */
export interface ServerInfo {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

const PREFLIGHT_TIMEOUT_MS = 5000;

/** The path of a model (and version) under the v2 API. */
export function modelPath(model: string, version: string | null): string {
  return `/v2/models/${encodeURIComponent(model)}${version === null ? '' : `/versions/${encodeURIComponent(version)}`}`;
}

function errorCode(e: unknown): string {
  const err = e as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
  if (typeof err.code === 'string') return err.code.startsWith('UND_ERR_') && err.code.includes('TIMEOUT') ? 'timeout' : err.code;
  if (typeof err.cause?.code === 'string') return err.cause.code;
  return typeof err.message === 'string' ? err.message : String(e);
}

/** The server's error text: the "error" of a JSON body, else the body's start. */
function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown };
    if (typeof j.error === 'string') return j.error;
  } catch {
    // not JSON: the text itself
  }
  return body.trim().slice(0, 200);
}

async function getJson(url: string): Promise<{ status: number; body: string }> {
  try {
    const res = await request(url, { method: 'GET', headersTimeout: PREFLIGHT_TIMEOUT_MS, bodyTimeout: PREFLIGHT_TIMEOUT_MS });
    return { status: res.statusCode, body: await res.body.text() };
  } catch (e) {
    const base = new URL(url).origin;
    throw new BenchError(`cannot reach ${base}: ${errorCode(e)}; is the server running?`);
  }
}

function tensorSpecs(value: unknown): TensorSpec[] | null {
  if (!Array.isArray(value)) return null;
  const out: TensorSpec[] = [];
  for (const t of value as unknown[]) {
    const o = t as { name?: unknown; datatype?: unknown; shape?: unknown };
    if (typeof o?.name !== 'string' || typeof o.datatype !== 'string' || !Array.isArray(o.shape) || !o.shape.every((d) => Number.isInteger(d))) return null;
    out.push(Object.freeze({ name: o.name, datatype: o.datatype, shape: Object.freeze([...(o.shape as number[])]) }));
  }
  return out;
}

/** GET the model's metadata over HTTP; BenchError when unreachable, missing or malformed. */
export async function fetchModelHttp(baseUrl: string, model: string, version: string | null): Promise<ModelSignature> {
  const url = baseUrl + modelPath(model, version);
  const { status, body } = await getJson(url);
  const what = version === null ? `model "${model}"` : `model "${model}" version "${version}"`;
  if (status === 404) throw new BenchError(`${what} not found at ${baseUrl}: 404 ${errorText(body)}`);
  if (status !== 200) throw new BenchError(`GET ${url} answered ${status}: ${errorText(body)}`);
  let json: { name?: unknown; versions?: unknown; platform?: unknown; inputs?: unknown; outputs?: unknown };
  try {
    json = JSON.parse(body) as typeof json;
  } catch {
    throw new BenchError(`GET ${url} answered 200 with a body that is not JSON: ${body.slice(0, 120)}`);
  }
  const inputs = tensorSpecs(json.inputs);
  if (inputs === null) throw new BenchError(`GET ${url} is not KServe v2 model metadata: expected {"name", "inputs": [{"name", "datatype", "shape"}]}`);
  return Object.freeze({
    name: typeof json.name === 'string' ? json.name : model,
    versions: Object.freeze(Array.isArray(json.versions) ? json.versions.map(String) : []),
    platform: typeof json.platform === 'string' ? json.platform : '',
    inputs: Object.freeze(inputs),
    outputs: Object.freeze(tensorSpecs(json.outputs) ?? []),
  });
}

/** GET /v2 (server metadata); null when the server does not answer it with JSON. */
export async function fetchServerHttp(baseUrl: string): Promise<ServerInfo | null> {
  const { status, body } = await getJson(`${baseUrl}/v2`);
  if (status !== 200) return null;
  try {
    const j = JSON.parse(body) as { name?: unknown; version?: unknown; extensions?: unknown };
    return Object.freeze({
      name: typeof j.name === 'string' ? j.name : 'unknown',
      version: typeof j.version === 'string' ? j.version : 'unknown',
      extensions: Object.freeze(Array.isArray(j.extensions) ? j.extensions.map(String) : []),
    });
  } catch {
    return null;
  }
}

function grpcFailure(e: unknown, address: string, what: string): BenchError {
  const err = e as ServiceError;
  if (typeof err.code !== 'number') return new BenchError(`grpc://${address}: ${String(e)}`);
  if (err.code === 14 /* UNAVAILABLE */ || err.code === 4 /* DEADLINE_EXCEEDED */) {
    return new BenchError(`cannot reach grpc://${address}: ${statusName(err.code)} ${err.details}; is the server running (or pass --grpc-url)?`);
  }
  if (err.code === 5 /* NOT_FOUND */) return new BenchError(`${what} not found at grpc://${address}: NOT_FOUND ${err.details}`);
  return new BenchError(`${what} at grpc://${address}: ${statusName(err.code)} ${err.details}`);
}

/** The model's and the server's metadata over gRPC; BenchError when unreachable or missing. */
export async function fetchGrpc(address: string, model: string, version: string | null): Promise<{ model: ModelSignature; server: ServerInfo }> {
  const [client] = openChannels(address, 1) as [Client];
  const what = version === null ? `model "${model}"` : `model "${model}" version "${version}"`;
  try {
    const server = await unaryCall(client, 'ServerMetadata', ServerMetadataRequestSchema, ServerMetadataResponseSchema, {}, PREFLIGHT_TIMEOUT_MS).catch((e: unknown) => {
      throw grpcFailure(e, address, 'server metadata');
    });
    const m = await unaryCall(client, 'ModelMetadata', ModelMetadataRequestSchema, ModelMetadataResponseSchema, { name: model, version: version ?? '' }, PREFLIGHT_TIMEOUT_MS).catch(
      (e: unknown) => {
        throw grpcFailure(e, address, what);
      },
    );
    const specs = (ts: typeof m.inputs): TensorSpec[] => ts.map((t) => Object.freeze({ name: t.name, datatype: t.datatype, shape: Object.freeze(t.shape.map(Number)) }));
    return {
      model: Object.freeze({ name: m.name, versions: Object.freeze([...m.versions]), platform: m.platform, inputs: Object.freeze(specs(m.inputs)), outputs: Object.freeze(specs(m.outputs)) }),
      server: Object.freeze({ name: server.name, version: server.version, extensions: Object.freeze([...server.extensions]) }),
    };
  } finally {
    client.close();
  }
}
