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
import { JsonBytes, constant } from './json-bytes.js';
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
   * The record as one line of JSON (no newline), computed once: writeJson's bytes as a
   * string, for the sinks that take strings (Redis streams). writeJson is the one serialiser;
   * toJSON() is its readable specification, which the property test holds it to.
   */
  toLine(): string {
    if (this.line !== null) return this.line;
    const w = scratch();
    this.writeJson(w);
    const line = w.bytes().toString('utf8');
    releaseScratch(w);
    this.line = line;
    return line;
  }

  /**
   * Appends the record as one line of JSON (no newline) to `w`, built without intermediate
   * strings: exactly JSON.stringify(toJSON()) in UTF-8. What the byte-stream sinks (file,
   * stdout) write; the line is not cached, so call it once per sink.
   */
  writeJson(w: JsonBytes): void {
    if (this.line !== null) {
      w.json(this.line);
      return;
    }
    w.raw(K.time);
    w.ascii(isoTime(this.time));
    w.raw(K.requestId);
    w.string(this.id);
    w.raw(K.traceId);
    w.stringOrNull(this.traceId);
    w.raw(K.protocol);
    w.string(this.protocol);
    if (this.route === null && this.policy === null && this.target === null && this.canaryStep === null && this.banditArm === null) {
      // a model called directly (the usual record): the routing fields in one piece
      w.raw(this.shadow ? K.unroutedShadow : K.unrouted);
    } else {
      w.raw(K.route);
      w.stringOrNull(this.route);
      w.raw(K.policy);
      w.stringOrNull(this.policy);
      w.raw(K.target);
      w.stringOrNull(this.target);
      w.raw(K.canaryStep);
      w.numberOrNull(this.canaryStep);
      w.raw(K.banditArm);
      w.stringOrNull(this.banditArm);
      w.raw(this.shadow ? K.shadowTrue : K.shadowFalse);
    }
    w.string(this.model);
    w.raw(K.modelVersion);
    w.stringOrNull(this.version);
    w.raw(K.status);
    w.string(this.status);
    if (this.error === null) w.raw(K.noError);
    else {
      w.raw(K.error);
      w.string(this.error);
      w.raw(K.features);
    }
    w.number(round(this.featuresUs));
    w.raw(K.queue);
    w.number(round(this.queueUs));
    w.raw(K.compute);
    w.number(round(this.computeUs));
    w.raw(K.total);
    w.number(round(this.totalUs));
    w.raw(K.batchSize);
    w.number(this.batchSize);
    w.raw(K.inputs);
    if (this.inputs === null) w.ascii('null');
    else writeShapes(w, this.inputs);
    w.raw(K.outputs);
    if (this.outputs === null) w.ascii('null');
    else writeSummaries(w, this.outputs);
    if (this.featuresDefaulted === null && this.payload === null) {
      w.raw(K.tail);
      return;
    }
    w.raw(K.featuresDefaulted);
    w.numberOrNull(this.featuresDefaulted);
    w.raw(K.payload);
    if (this.payload === null) w.ascii('null');
    else w.json(JSON.stringify(this.payload));
    w.byte(0x7d);
  }

  /** The record as JSON.stringify should write it: the specification writeJson is tested against. */
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


/** toLine()'s buffer, reused; one that grew past SCRATCH_MAX_BYTES (a sampled payload) is let go. */
const SCRATCH_MAX_BYTES = 1 << 20;
let spare: JsonBytes | null = null;
function scratch(): JsonBytes {
  const w = spare ?? new JsonBytes(4096);
  spare = null;
  w.reset();
  return w;
}
function releaseScratch(w: JsonBytes): void {
  if (w.buf.length <= SCRATCH_MAX_BYTES) spare = w;
}

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



/** The keys and punctuation between a record's values, as bytes (writeJson). */
const K = {
  time: constant('{"time":"'),
  requestId: constant('","request_id":'),
  traceId: constant(',"trace_id":'),
  protocol: constant(',"protocol":'),
  route: constant(',"route":'),
  policy: constant(',"policy":'),
  target: constant(',"target":'),
  canaryStep: constant(',"canary_step":'),
  banditArm: constant(',"bandit_arm":'),
  shadowTrue: constant(',"shadow":true,"model_name":'),
  unrouted: constant(',"route":null,"policy":null,"target":null,"canary_step":null,"bandit_arm":null,"shadow":false,"model_name":'),
  unroutedShadow: constant(',"route":null,"policy":null,"target":null,"canary_step":null,"bandit_arm":null,"shadow":true,"model_name":'),
  noError: constant(',"error":null,"latency_us":{"features":'),
  tail: constant(',"features_defaulted":null,"payload":null}'),
  shadowFalse: constant(',"shadow":false,"model_name":'),
  modelVersion: constant(',"model_version":'),
  status: constant(',"status":'),
  error: constant(',"error":'),
  features: constant(',"latency_us":{"features":'),
  queue: constant(',"queue":'),
  compute: constant(',"compute":'),
  total: constant(',"total":'),
  batchSize: constant('},"batch_size":'),
  inputs: constant(',"inputs":'),
  outputs: constant(',"outputs":'),
  featuresDefaulted: constant(',"features_defaulted":'),
  payload: constant(',"payload":'),
  name: constant('{"name":'),
  datatype: constant(',"datatype":"'),
  shape: constant('","shape":'),
  argmax: constant(',"argmax":'),
  score: constant(',"score":'),
  values: constant(',"values":'),
};

function writeSummaries(w: JsonBytes, summaries: readonly OutputSummary[]): void {
  w.byte(0x5b);
  for (let i = 0; i < summaries.length; i++) {
    const o = summaries[i];
    if (i > 0) w.byte(0x2c);
    writeTensorHead(w, o.name, o.datatype, o.shape);
    if (o.argmax !== null) {
      w.raw(K.argmax);
      w.numbers(o.argmax);
    }
    if (o.score !== null) {
      w.raw(K.score);
      w.numbers(o.score);
    }
    if (o.values !== null) {
      w.raw(K.values);
      w.numbers(o.values);
    }
    w.byte(0x7d);
  }
  w.byte(0x5d);
}

/** `{"name":…,"datatype":"…","shape":[…]` (the object is left open). */
function writeTensorHead(w: JsonBytes, name: string, datatype: Datatype, shape: readonly number[]): void {
  w.raw(K.name);
  w.string(name);
  w.raw(K.datatype);
  w.ascii(datatype);
  w.raw(K.shape);
  w.numbers(shape);
}

function writeShapes(w: JsonBytes, inputs: readonly TensorShape[]): void {
  w.byte(0x5b);
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    if (i > 0) w.byte(0x2c);
    writeTensorHead(w, t.name, t.datatype, t.shape);
    w.byte(0x7d);
  }
  w.byte(0x5d);
}

