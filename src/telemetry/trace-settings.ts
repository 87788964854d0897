/**
 * Triton's trace extension on switchyard's OpenTelemetry tracing: the settings
 * `GET/POST /v2[/models/{m}]/trace/setting` and the TraceSetting rpc read and change, and
 * the per-request decision they make (sample()).
 *
 * Settings, with the values as Triton writes them (strings, trace_level a list):
 *   trace_level    ["OFF"] or ["TIMESTAMPS"]: whether requests get spans (TENSORS, tensor
 *                  contents in traces, is refused: switchyard does not record tensors)
 *   trace_rate     "N": one request in every N is traced
 *   trace_count    "N": traces left to take (-1 = no limit); it counts down as requests are traced
 *   log_frequency  kept and reported for Triton's clients; spans go to the OpenTelemetry
 *                  exporter, which batches and sends them itself
 *   trace_file     "" and read-only: there is no trace file
 *   trace_mode     "opentelemetry", read-only
 * A traced request gets the spans tracing.ts describes; OTEL_TRACES_SAMPLER still applies to
 * those (with its default, parentbased_always_on, every one is kept). A request that
 * carries a W3C traceparent is traced whenever the level is on (it bypasses trace_rate, as in
 * Triton's OpenTelemetry mode), and it counts against trace_count.
 *
 * A model's settings (the name the client calls: a model or a route) override the global
 * ones key by key; a key it does not set follows the global value as that changes. Setting a
 * key to null (REST) or to no values (gRPC) clears it: a model's falls back to the global
 * one (a model with no keys left has no settings of its own), a global one to its value at
 * startup. Defaults: level TIMESTAMPS, rate 1, count -1 when an exporter is configured (every
 * request traced, as before these settings existed); level OFF when none is, and turning it
 * on then is refused, since there would be nowhere to send spans.
 */
import { GatewayError } from '../core/errors.js';

export type TraceSettingsJson = Record<string, string | string[]>;

/** Requested changes, by key: the new values (strings, as Triton sends them), or null to clear. */
export type TraceSettingChanges = ReadonlyMap<string, readonly string[] | null>;

const KEYS = ['trace_level', 'trace_rate', 'trace_count', 'log_frequency', 'trace_file', 'trace_mode'] as const;
const UINT32_MAX = 4294967295;
const INT32_MAX = 2147483647;

function bad(message: string): GatewayError {
  return new GatewayError('SY_ERR_BAD_REQUEST', message);
}

/** One scope's settings: each value null where the scope does not set it. */
class Scope {
  level: boolean | null = null;
  rate: number | null = null;
  /** traces left (-1 = unlimited); counts down */
  count: number | null = null;
  logFrequency: number | null = null;
  /** requests seen since the rate was last set (for one-in-N) */
  seen = 0;

  empty(): boolean {
    return this.level === null && this.rate === null && this.count === null && this.logFrequency === null;
  }
}

function only(key: string, values: readonly string[]): string {
  if (values.length !== 1) throw bad(`${key} takes one value, got ${values.length}`);
  return values[0];
}

function integer(key: string, values: readonly string[], min: number, max: number): number {
  const s = only(key, values).trim();
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw bad(`Unable to parse '${key}', got: ${JSON.stringify(s.slice(0, 40))}; expected an integer from ${min} to ${max}`);
  }
  return n;
}

export class TraceSettings {
  /** whether an OpenTelemetry exporter is configured (spans have somewhere to go) */
  readonly available: boolean;
  private readonly defaults: Scope;
  private readonly global = new Scope();
  private readonly models = new Map<string, Scope>();

  constructor(available: boolean) {
    this.available = available;
    const d = new Scope();
    d.level = available;
    d.rate = 1;
    d.count = -1;
    d.logFrequency = 0;
    this.defaults = d;
  }

  /** The effective settings of `model` (null: the global ones), as Triton answers them. */
  get(model: string | null): TraceSettingsJson {
    const s = model === null ? undefined : this.models.get(model);
    const level = this.value(s, 'level') as boolean;
    return {
      trace_level: [level ? 'TIMESTAMPS' : 'OFF'],
      trace_rate: String(this.value(s, 'rate')),
      trace_count: String(this.countOwner(s).count),
      log_frequency: String(this.value(s, 'logFrequency')),
      trace_file: '',
      trace_mode: 'opentelemetry',
    };
  }

  /**
   * Applies `changes` to the global settings (model null) or to a model's; all or nothing.
   * Throws a 400 naming the key and what it takes.
   */
  update(model: string | null, changes: TraceSettingChanges): void {
    const current = model === null ? this.global : this.models.get(model);
    // validated into a copy first, so that a bad key changes nothing
    const next = new Scope();
    if (current !== undefined) Object.assign(next, current);
    for (const [key, values] of changes) {
      if (!(KEYS as readonly string[]).includes(key)) {
        throw bad(`unknown trace setting ${JSON.stringify(key.slice(0, 64))}; the settings are trace_level, trace_rate, trace_count, log_frequency (trace_file and trace_mode are read-only)`);
      }
      if (key === 'trace_file') {
        if (values !== null) throw bad('trace file location can not be updated through network protocol; switchyard has no trace file, it sends spans to the OpenTelemetry exporter (OTEL_EXPORTER_OTLP_ENDPOINT)');
        continue;
      }
      if (key === 'trace_mode') {
        if (values !== null) throw bad('trace_mode can not be updated; switchyard traces with OpenTelemetry ("opentelemetry")');
        continue;
      }
      if (values === null) {
        if (key === 'trace_level') next.level = null;
        else if (key === 'trace_rate') next.rate = null;
        else if (key === 'trace_count') next.count = null;
        else next.logFrequency = null;
        continue;
      }
      if (key === 'trace_level') next.level = this.level(values);
      else if (key === 'trace_rate') next.rate = integer(key, values, 1, UINT32_MAX);
      else if (key === 'trace_count') next.count = integer(key, values, -1, INT32_MAX);
      else next.logFrequency = integer(key, values, 0, UINT32_MAX);
    }
    if (changes.has('trace_rate')) next.seen = 0;
    if (model === null) {
      Object.assign(this.global, next);
    } else if (next.empty()) {
      this.models.delete(model);
    } else {
      this.models.set(model, next);
    }
  }

  /**
   * Whether a request to `model` is to be traced; counts it against the rate and, when
   * traced, against the count. `forced`: the request carries the caller's trace context.
   */
  sample(model: string, forced: boolean): boolean {
    const s = this.models.size === 0 ? undefined : this.models.get(model);
    if (!(this.value(s, 'level') as boolean)) return false;
    if (!forced) {
      const scope = s ?? this.global;
      const rate = this.value(s, 'rate') as number;
      scope.seen++;
      if (scope.seen < rate) return false;
      scope.seen = 0;
    }
    const owner = this.countOwner(s);
    const left = owner.count as number;
    if (left === 0) return false;
    if (left > 0) owner.count = left - 1;
    return true;
  }

  private level(values: readonly string[]): boolean {
    if (values.length === 0) throw bad('trace_level needs a value: ["OFF"] or ["TIMESTAMPS"]');
    let on = false;
    for (const v of values) {
      if (v === 'OFF') {
        if (values.length > 1) throw bad("Expect only one trace level 'OFF' is specified");
      } else if (v === 'TIMESTAMPS') {
        on = true;
      } else if (v === 'TENSORS') {
        throw bad('trace level TENSORS (tensor contents in traces) is not supported by switchyard; use ["TIMESTAMPS"] (request, queue and batch spans)');
      } else {
        throw bad(`unknown trace level ${JSON.stringify(v.slice(0, 40))}; expected "OFF" or "TIMESTAMPS"`);
      }
    }
    if (on && !this.available) {
      throw bad(
        'tracing is off: no OpenTelemetry exporter is configured, so there is nowhere to send spans; start switchyard with OTEL_EXPORTER_OTLP_ENDPOINT=<collector> (or OTEL_TRACES_EXPORTER=console) to trace',
      );
    }
    return on;
  }

  /** A key's effective value: the model's, else the global one, else the startup default. */
  private value(s: Scope | undefined, key: 'level' | 'rate' | 'logFrequency'): boolean | number {
    return (s === undefined ? null : s[key]) ?? this.global[key] ?? (this.defaults[key] as boolean | number);
  }

  /** The scope whose trace_count a request draws from. */
  private countOwner(s: Scope | undefined): Scope {
    if (s !== undefined && s.count !== null) return s;
    if (this.global.count !== null) return this.global;
    return this.defaults;
  }
}

/**
 * REST's body `{"trace_rate": "10", "trace_level": ["TIMESTAMPS"], "trace_count": null}` as
 * changes: strings, lists of strings, integers (taken as their decimal text) or null.
 */
export function traceChangesFromJson(body: unknown): TraceSettingChanges {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw bad('the trace setting body must be a JSON object such as {"trace_rate": "100", "trace_level": ["TIMESTAMPS"]}');
  }
  const out = new Map<string, readonly string[] | null>();
  for (const [key, v] of Object.entries(body as Record<string, unknown>)) {
    if (v === null) out.set(key, null);
    else if (typeof v === 'string') out.set(key, [v]);
    else if (typeof v === 'number' && Number.isInteger(v)) out.set(key, [String(v)]);
    else if (Array.isArray(v) && v.every((e) => typeof e === 'string')) out.set(key, v as string[]);
    else throw bad(`trace setting ${JSON.stringify(key.slice(0, 64))} must be a string, a list of strings, or null (to clear it), got ${JSON.stringify(v)?.slice(0, 60) ?? typeof v}`);
  }
  return out;
}
