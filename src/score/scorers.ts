/**
 * Where the rows run: a Gateway in this process (the default: the same Gateway.infer() every
 * transport calls, so routes, features, validation, batching, metrics and the request log
 * apply as online), or a running gateway's REST endpoint (`--url`: KServe v2 JSON on
 * keep-alive connections, one request in flight per connection).
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { ServerConfig } from '../config/index.js';
import { InferRequest, toGatewayError, type InferResponse, type Logger, type Tensor, type TensorSpec } from '../core/index.js';
import { ScoreError, ScoreUsageError } from './errors.js';

/** The answer to one row (or one v2 request line). */
export interface RowResult {
  readonly id: string;
  readonly model: string;
  readonly version: string;
  /** JSON object text `{"<output>": [flat row-major data], …}` */
  readonly outputs: string;
}

/** A row the server refused or failed; `retry` for overload (the row is sent again later). */
export class RowFailure extends Error {
  readonly code: string;
  readonly retry: boolean;
  constructor(code: string, message: string, retry: boolean) {
    super(message);
    this.code = code;
    this.retry = retry;
  }
}

export interface Scorer {
  /** the model's (or route's) inputs, dim 0 the batch when `batched` */
  readonly inputs: readonly TensorSpec[];
  readonly batched: boolean;
  /** what runs the rows, for the summary ("in-process gateway", "http://…") */
  readonly where: string;
  /** one row's tensors (each of dim 0 = 1); rejects with RowFailure */
  row(id: string, tensors: Tensor[]): Promise<RowResult>;
  /** a KServe v2 request body as written in the file; rejects with RowFailure */
  request(id: string, text: string): Promise<RowResult>;
  close(): Promise<void>;
}

const RETRY_CODES = new Set(['SY_ERR_QUEUE_FULL', 'SY_ERR_DRAINING', 'SY_ERR_MODEL_UNAVAILABLE', 'SY_ERR_WORKER_DIED']);

function outputsJson(resp: InferResponse, jsonArray: (t: Tensor) => string): string {
  let s = '{';
  const outs = resp.outputs;
  for (let i = 0; i < outs.length; i++) {
    if (i > 0) s += ',';
    s += JSON.stringify(outs[i].name) + ':' + jsonArray(outs[i]);
  }
  return s + '}';
}

/** The in-process gateway of `config`; a usage error when `model` is not served. */
export async function inProcessScorer(config: ServerConfig, model: string, version: string | null, log: Logger): Promise<Scorer> {
  const [{ Gateway }, protocol] = await Promise.all([import('../gateway.js'), import('../protocol/index.js')]);
  const gateway = await Gateway.create({ config, log });
  let inputs: readonly TensorSpec[];
  let batched: boolean;
  try {
    inputs = gateway.signature(model).inputs;
    batched = gateway.modelConfig(model, version).max_batch_size > 0;
  } catch (e) {
    const served = gateway.index(true).map((x) => x.name);
    await gateway.stop();
    const err = toGatewayError(e);
    throw new ScoreUsageError(`--model ${model}${version === null ? '' : ` --model-version ${version}`}: ${err.code === 'SY_ERR_MODEL_NOT_FOUND' || err.code === 'SY_ERR_NOT_FOUND' ? 'not served by the gateway of this config' : err.message}; served: ${[...new Set(served)].join(', ') || 'nothing (check model_repository)'}`);
  }
  const encode = (t: Tensor): string => protocol.jsonArray(t.datatype, t.data, 0, t.data.length);
  const run = async (req: InferRequest): Promise<RowResult> => {
    try {
      const resp = await gateway.infer(req);
      return { id: resp.id, model: resp.modelName, version: resp.modelVersion, outputs: outputsJson(resp, encode) };
    } catch (e) {
      const err = toGatewayError(e);
      throw new RowFailure(err.code, err.message, RETRY_CODES.has(err.code));
    }
  };
  return {
    inputs,
    batched,
    where: 'in-process gateway',
    row(id, tensors) {
      // 'rest': the protocol label of the metrics and request log; a scoring run is an in-process REST-shaped caller
      const req = new InferRequest(model, version, tensors, 'rest', performance.now());
      req.id = id;
      return run(req);
    },
    request(id, text) {
      let req: InferRequest;
      try {
        req = protocol.decodeInferRequest(Buffer.from(text, 'utf8'), null, model, version, performance.now());
      } catch (e) {
        const err = toGatewayError(e);
        return Promise.reject(new RowFailure(err.code, err.message, false));
      }
      if (req.id === '') req.id = id;
      return run(req);
    },
    close: () => gateway.stop(),
  };
}

interface MetadataJson {
  inputs?: { name: string; datatype: TensorSpec['datatype']; shape: number[] }[];
}

interface InferJson {
  id?: string;
  model_name?: string;
  model_version?: string;
  outputs?: { name: string; data?: unknown }[];
  error?: string;
}

/** A running gateway at `url` (REST). */
export async function httpScorer(url: string, model: string, version: string | null, concurrency: number): Promise<Scorer> {
  let origin: string;
  let base: string;
  try {
    const u = new URL(url);
    origin = u.origin;
    base = u.pathname.replace(/\/$/, '');
  } catch {
    throw new ScoreUsageError(`--url ${url}: not a URL; expected e.g. http://localhost:8000`);
  }
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const modelPath = `${base}/v2/models/${encodeURIComponent(model)}${version === null ? '' : `/versions/${encodeURIComponent(version)}`}`;
  const get = async (p: string): Promise<{ status: number; json: unknown }> => {
    try {
      const r = await pool.request({ method: 'GET', path: p });
      const text = await r.body.text();
      return { status: r.statusCode, json: text === '' ? null : (JSON.parse(text) as unknown) };
    } catch (e) {
      throw new ScoreUsageError(`--url ${url}: cannot reach the gateway (${(e as Error).message}); is it running?`);
    }
  };
  try {
    const meta = await get(modelPath);
    if (meta.status === 404) throw new ScoreUsageError(`--model ${model}: not served at ${url} (GET ${url}/v2/repository/index lists what is)`);
    if (meta.status !== 200) throw new ScoreUsageError(`--url ${url}: model metadata answered HTTP ${meta.status}`);
    const inputs = ((meta.json as MetadataJson).inputs ?? []).map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape }));
    const cfg = await get(`${modelPath}/config`);
    const batched = cfg.status === 200 && typeof (cfg.json as { max_batch_size?: unknown }).max_batch_size === 'number' ? (cfg.json as { max_batch_size: number }).max_batch_size > 0 : inputs.every((i) => i.shape[0] === -1);
    const { jsonArray } = await import('../protocol/index.js');
    const post = async (body: string): Promise<RowResult> => {
      let status: number;
      let text: string;
      try {
        const r = await pool.request({ method: 'POST', path: `${modelPath}/infer`, body, headers: { 'content-type': 'application/json' } });
        status = r.statusCode;
        text = await r.body.text();
      } catch (e) {
        throw new RowFailure('http', `the gateway did not answer: ${(e as Error).message}`, true);
      }
      let json: InferJson;
      try {
        json = JSON.parse(text) as InferJson;
      } catch {
        throw new RowFailure(`http ${status}`, `the gateway answered HTTP ${status} with a body that is not JSON`, false);
      }
      if (status !== 200) throw new RowFailure(`http ${status}`, json.error ?? `HTTP ${status}`, status === 429 || status === 503);
      let outputs = '{';
      for (const [i, o] of (json.outputs ?? []).entries()) outputs += (i > 0 ? ',' : '') + JSON.stringify(o.name) + ':' + JSON.stringify(o.data ?? null);
      return { id: json.id ?? '', model: json.model_name ?? model, version: json.model_version ?? '', outputs: outputs + '}' };
    };
    return {
      inputs,
      batched,
      where: url,
      row(id, tensors) {
        let body = `{"id":${JSON.stringify(id)},"inputs":[`;
        for (let i = 0; i < tensors.length; i++) {
          const t = tensors[i];
          body += `${i > 0 ? ',' : ''}{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":[${t.shape.join(',')}],"data":${jsonArray(t.datatype, t.data, 0, t.data.length)}}`;
        }
        return post(body + ']}');
      },
      request(_id, text) {
        return post(text);
      },
      close: () => pool.close(),
    };
  } catch (e) {
    await pool.close();
    if (e instanceof ScoreUsageError || e instanceof ScoreError) throw e;
    throw new ScoreUsageError(`--url ${url}: ${(e as Error).message}`);
  }
}
