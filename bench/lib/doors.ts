/**
 * How a case's load reaches its server, by door: the request each door sends (encoded once,
 * the same bytes for every request of a run), the one request that checks a server answers
 * it before the load starts, and which generator drives it:
 *
 *   rest         wrk, KServe v2 JSON body                    (wrk.ts)
 *   rest-binary  wrk, Triton's binary tensor extension body  (wrk.ts)
 *   grpc         h2load, framed ModelInferRequest            (h2load.ts)
 *   grpc-stream  `switchyard bench`'s generator, one ModelStreamInfer stream (drive.ts): h2load
 *                cannot hold a bidirectional stream
 *   ws           `switchyard bench`'s generator, one /v2/stream socket (drive.ts)
 */
import { Tensor } from '../../src/core/index.js';
import { binaryBody, grpcRequest } from '../../src/loadgen/encode.js';
import { drive } from './drive.js';
import { checkGrpcBody } from './grpc-check.js';
import { findH2load, grpcFrame, GRPC_HEADERS, measureH2load } from './h2load.js';
import type { LoadSettings, LoadTarget, Measured } from './load.js';
import { findWrk, measureWrk } from './wrk.js';

export type Door = 'rest' | 'rest-binary' | 'grpc' | 'grpc-stream' | 'ws';

/** Where and what one case sends. */
export interface DoorTarget {
  /** HTTP base URL ('' when the server has no HTTP door) */
  baseUrl: string;
  /** host:port of the gRPC door ('' when it has none) */
  grpcAddress: string;
  model: string;
  /** the FP32 row sent as input `x` */
  row: readonly number[];
  /** REST JSON only: the body, when it is not the row (e.g. a customer id) */
  body?: string;
}

/** The C generators' binaries, found once before any server starts. */
export interface Generators {
  wrk: string | null;
  h2load: string | null;
  /** wrk's -t (capped by the connections) */
  wrkThreads: number;
}

export const GRPC_INFER_PATH = '/inference.GRPCInferenceService/ModelInfer';

const JSON_HEADERS = { 'content-type': 'application/json' };

/** The KServe v2 JSON body of one row. */
export const jsonBody = (row: readonly number[]): string => JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, row.length], data: row }] });

const content = (row: readonly number[]): { tensors: Tensor[]; outputs: string[]; fileBody: null } => ({
  tensors: [new Tensor('x', 'FP32', [1, row.length], Float32Array.from(row))],
  outputs: [],
  fileBody: null,
});

/** The HTTP request of a REST door. */
export function restTarget(door: 'rest' | 'rest-binary', t: DoorTarget): LoadTarget {
  const url = `${t.baseUrl}/v2/models/${t.model}/infer`;
  if (door === 'rest') return { url, body: Buffer.from(t.body ?? jsonBody(t.row), 'utf8'), headers: JSON_HEADERS };
  const { body, headerLength } = binaryBody(content(t.row));
  return { url, body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) } };
}

/** The h2c request of the gRPC unary door: the framed ModelInferRequest. */
export function grpcTarget(t: DoorTarget): LoadTarget {
  return { url: `http://${t.grpcAddress}${GRPC_INFER_PATH}`, body: grpcFrame(grpcRequest(content(t.row), t.model, null)), headers: { ...GRPC_HEADERS } };
}

/** Finds the generators `doors` need; throws "wrk not found: apt-get install wrk" and the like. */
export function findGenerators(doors: readonly Door[], wrkThreads: number): Generators {
  const wrk = doors.some((d) => d === 'rest' || d === 'rest-binary') ? findWrk() : null;
  const h2load = doors.includes('grpc') ? findH2load() : null;
  return { wrk, h2load, wrkThreads };
}

/** The protocol label switchyard's request counter gives a door's requests. */
export function metricsProtocol(door: Door): 'rest' | 'grpc' | 'ws' {
  return door === 'rest' || door === 'rest-binary' ? 'rest' : door === 'ws' ? 'ws' : 'grpc';
}

/** The door's load generator counts gRPC errors as successes (h2load sees HTTP 200 only). */
export const blindToGrpcStatus = (door: Door): boolean => door === 'grpc';

/** The outputs of a REST answer: JSON, or the JSON header of a binary-extension answer. */
async function restOutputs(res: Response): Promise<{ text: string; outputs: unknown }> {
  const bytes = Buffer.from(await res.arrayBuffer());
  const headerLength = Number(res.headers.get('inference-header-content-length') ?? NaN);
  const text = (Number.isInteger(headerLength) ? bytes.subarray(0, headerLength) : bytes).toString('utf8');
  try {
    return { text, outputs: (JSON.parse(text) as { outputs?: unknown }).outputs };
  } catch {
    return { text, outputs: null };
  }
}

/**
 * One request before measuring, with the exact bytes the generator will send: a server that
 * does not answer it with outputs (HTTP 200; over gRPC also grpc-status 0) stops the bench.
 * The doors on drive.ts need none: their generator reads every answer and counts errors.
 */
export async function checkDoor(caseId: string, door: Door, t: DoorTarget): Promise<void> {
  if (door === 'grpc') {
    const g = grpcTarget(t);
    await checkGrpcBody(caseId, t.grpcAddress, GRPC_INFER_PATH, g.body, g.headers);
    return;
  }
  if (door !== 'rest' && door !== 'rest-binary') return;
  const target = restTarget(door, t);
  const res = await fetch(target.url, { method: 'POST', body: target.body, headers: target.headers });
  const { text, outputs } = await restOutputs(res);
  if (res.status !== 200 || !Array.isArray(outputs)) {
    throw new Error(`${caseId}: POST ${target.url} answered ${res.status} ${text.slice(0, 300)} — expected 200 with an "outputs" array`);
  }
}

/** Warm-up, then one measured run through `door` with its generator. */
export function loadDoor<T>(door: Door, t: DoorTarget, settings: LoadSettings, gens: Generators, probe: (() => Promise<T>) | null): Promise<Measured<T>> {
  switch (door) {
    case 'rest':
    case 'rest-binary':
      return measureWrk(gens.wrk!, restTarget(door, t), settings, gens.wrkThreads, probe);
    case 'grpc':
      return measureH2load(gens.h2load!, grpcTarget(t), settings, probe);
    case 'grpc-stream':
    case 'ws':
      return drive({ protocol: door, url: t.baseUrl, grpcAddress: t.grpcAddress, model: t.model, input: { name: 'x', row: t.row } }, settings, probe);
  }
}
