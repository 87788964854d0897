/**
 * One request log record: what happened to one inference request (or one shadow call).
 *
 * The gateway builds one per request and hands it to RequestLogWriter.write(); from then on
 * the writer owns it and nobody changes it (it may sit in several sinks' buffers and is
 * serialised once, lazily, by whichever sink writes it first). Every field is assigned in
 * the constructor (null placeholders included) so records share one hidden class
 * (CONVENTIONS 7). Times are microseconds; 0 = the stage did not run.
 *
 * JSON form (one line per record; keys always present, null when unknown):
 *   { "time": ISO-8601, "request_id", "trace_id", "protocol",
 *     "route", "policy", "target", "canary_step", "bandit_arm", "shadow",
 *     "model_name", "model_version", "status", "error",
 *     "latency_us": { "features", "queue", "compute", "total" }, "batch_size",
 *     "inputs": [{ "name", "datatype", "shape" }], "outputs": [OutputSummary],
 *     "features_defaulted": count, "payload": null | { "inputs": [...], "outputs": [...] } }
 */
import type { Datatype } from '../../core/index.js';
import type { OutputSummary, TensorPayload } from './summary.js';

/** Name, datatype and shape of one tensor of a request. */
export class TensorShape {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];

  constructor(name: string, datatype: Datatype, shape: readonly number[]) {
    this.name = name;
    this.datatype = datatype;
    this.shape = shape;
  }
}

/** Full tensors of a request whose payload was sampled (request_log.payload_sample_rate). */
export class RecordPayload {
  readonly inputs: readonly TensorPayload[];
  readonly outputs: readonly TensorPayload[] | null;

  constructor(inputs: readonly TensorPayload[], outputs: readonly TensorPayload[] | null) {
    this.inputs = inputs;
    this.outputs = outputs;
  }
}

export class RequestRecord {
  /** the request id: the client's `id` / `x-request-id`, or generated; the key for feedback */
  id: string;
  /** W3C trace id (32 hex digits) when the request was traced, else null */
  traceId: string | null;
  /** Date.now() when the request was received */
  time: number;
  /** rest | grpc | ws */
  protocol: string;
  /** the route (virtual model) the client called, or null when it named a model directly */
  route: string | null;
  /** the routing policy that decided (weighted, canary, shadow, bandit…), or null */
  policy: string | null;
  /** the target the policy picked, as the route names it, or null */
  target: string | null;
  /** the canary step in force, or null */
  canaryStep: number | null;
  /** the bandit arm picked, or null */
  banditArm: string | null;
  /** true when this record is a shadow copy of a request (same id as the primary's record) */
  shadow: boolean;
  /** the model that served the request; as the client asked when it was not resolved */
  model: string;
  /** the version that served it, or null when none was resolved */
  version: string | null;
  /** 'success' or the GatewayError code */
  status: string;
  /** the error message, or null */
  error: string | null;
  featuresUs: number;
  queueUs: number;
  computeUs: number;
  totalUs: number;
  /** items (rows) of the batch the request ran in; 0 when it did not run */
  batchSize: number;
  /** the request's inputs (name, datatype, shape); never their data */
  inputs: readonly TensorShape[] | null;
  /** a summary of each output (see summary.ts), or null when there were none */
  outputs: readonly OutputSummary[] | null;
  /** feature values that took their default (missing, unparsable, store down), or null when no features were looked up */
  featuresDefaulted: number | null;
  /** full inputs and outputs, for the sampled fraction of requests only */
  payload: RecordPayload | null;
  /** the JSON text, once serialised */
  private line: string | null;

  constructor(id: string, model: string, protocol: string) {
    this.id = id;
    this.traceId = null;
    this.time = Date.now();
    this.protocol = protocol;
    this.route = null;
    this.policy = null;
    this.target = null;
    this.canaryStep = null;
    this.banditArm = null;
    this.shadow = false;
    this.model = model;
    this.version = null;
    this.status = 'success';
    this.error = null;
    this.featuresUs = 0;
    this.queueUs = 0;
    this.computeUs = 0;
    this.totalUs = 0;
    this.batchSize = 0;
    this.inputs = null;
    this.outputs = null;
    this.featuresDefaulted = null;
    this.payload = null;
    this.line = null;
  }

  /**
   * The record as one line of JSON (no newline), computed once; the same text as
   * JSON.stringify(toJSON()). Written out by hand because it runs once per request on the
   * event loop: about 2× faster than building the object and stringifying it (see
   * bench/micro/request-record.ts).
   */
  toLine(): string {
    if (this.line !== null) return this.line;
    let s =
      '{"time":"' +
      isoTime(this.time) +
      '","request_id":' +
      JSON.stringify(this.id) +
      ',"trace_id":' +
      str(this.traceId) +
      ',"protocol":' +
      JSON.stringify(this.protocol) +
      ',"route":' +
      str(this.route) +
      ',"policy":' +
      str(this.policy) +
      ',"target":' +
      str(this.target) +
      ',"canary_step":' +
      num(this.canaryStep) +
      ',"bandit_arm":' +
      str(this.banditArm) +
      ',"shadow":' +
      (this.shadow ? 'true' : 'false') +
      ',"model_name":' +
      JSON.stringify(this.model) +
      ',"model_version":' +
      str(this.version) +
      ',"status":' +
      JSON.stringify(this.status) +
      ',"error":' +
      str(this.error) +
      ',"latency_us":{"features":' +
      round(this.featuresUs) +
      ',"queue":' +
      round(this.queueUs) +
      ',"compute":' +
      round(this.computeUs) +
      ',"total":' +
      round(this.totalUs) +
      '},"batch_size":' +
      num(this.batchSize) +
      ',"inputs":';
    s += this.inputs === null ? 'null' : shapesJson(this.inputs);
    s += ',"outputs":' + (this.outputs === null ? 'null' : summariesJson(this.outputs));
    s += ',"features_defaulted":' + num(this.featuresDefaulted);
    s += ',"payload":' + (this.payload === null ? 'null' : JSON.stringify(this.payload)) + '}';
    this.line = s;
    return s;
  }

  toJSON(): Record<string, unknown> {
    return {
      time: new Date(this.time).toISOString(),
      request_id: this.id,
      trace_id: this.traceId,
      protocol: this.protocol,
      route: this.route,
      policy: this.policy,
      target: this.target,
      canary_step: this.canaryStep,
      bandit_arm: this.banditArm,
      shadow: this.shadow,
      model_name: this.model,
      model_version: this.version,
      status: this.status,
      error: this.error,
      latency_us: { features: round(this.featuresUs), queue: round(this.queueUs), compute: round(this.computeUs), total: round(this.totalUs) },
      batch_size: this.batchSize,
      inputs: this.inputs,
      outputs: this.outputs,
      features_defaulted: this.featuresDefaulted,
      payload: this.payload,
    };
  }
}

function round(us: number): number {
  return Math.round(us);
}

const str = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));
/** A number as JSON.stringify writes it (NaN and ±Infinity as null). */
const num = (v: number | null): string => (v === null || !Number.isFinite(v) ? 'null' : String(v));

/** Records written in the same millisecond share its ISO form (many do under load). */
let lastMs = NaN;
let lastIso = '';
function isoTime(ms: number): string {
  const whole = Math.floor(ms);
  if (whole !== lastMs) {
    lastMs = whole;
    lastIso = new Date(whole).toISOString();
  }
  return lastIso;
}

function numbersJson(values: readonly number[]): string {
  let s = '[';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) s += ',';
    s += num(values[i]);
  }
  return s + ']';
}

/** The same text as JSON.stringify(summaries) (OutputSummary.toJSON leaves out null parts). */
function summariesJson(summaries: readonly OutputSummary[]): string {
  let s = '[';
  for (let i = 0; i < summaries.length; i++) {
    const o = summaries[i];
    if (i > 0) s += ',';
    s += '{"name":' + JSON.stringify(o.name) + ',"datatype":"' + o.datatype + '","shape":[' + o.shape.join(',') + ']';
    if (o.argmax !== null) s += ',"argmax":' + numbersJson(o.argmax);
    if (o.score !== null) s += ',"score":' + numbersJson(o.score);
    if (o.values !== null) s += ',"values":' + numbersJson(o.values);
    s += '}';
  }
  return s + ']';
}

function shapesJson(inputs: readonly TensorShape[]): string {
  let s = '[';
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    if (i > 0) s += ',';
    s += '{"name":' + JSON.stringify(t.name) + ',"datatype":"' + t.datatype + '","shape":[' + t.shape.join(',') + ']}';
  }
  return s + ']';
}
