import { GatewayError } from '../core/errors.js';

/**
 * A load request's configuration override (Triton's `load_model(name, config=...)`: REST
 * `{"parameters": {"config": "<json>"}}`, gRPC `parameters["config"].string_param`), as a
 * model config object in switchyard's keys. As in Triton, the override stands in for the
 * model's config file for that load (a later load without one reads the file again); it is
 * layered over the server's `model_defaults` and validated like a config.yaml.
 *
 * Triton's ModelConfig keys are translated (protobuf JSON: int64 values may be strings);
 * switchyard's own keys (those of a config.yaml) are taken as they are. Keys Triton has but
 * switchyard cannot honour are refused by name, never ignored.
 */
export function parseConfigOverride(text: string, model: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw overrideError(model, `is not valid JSON (${(e as Error).message}); send a JSON object such as {"max_batch_size": 16}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw overrideError(model, `must be a JSON object such as {"max_batch_size": 16}, got ${describe(parsed)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const translate = TRITON_KEYS[key];
    if (translate !== undefined) {
      translate(value, out, model);
      continue;
    }
    if (SWITCHYARD_KEYS.has(key)) {
      out[key] = value;
      continue;
    }
    throw overrideError(model, `has key "${key.slice(0, 64)}", which switchyard does not support; supported: ${[...Object.keys(TRITON_KEYS), ...SWITCHYARD_KEYS].join(', ')}`);
  }
  return out;
}

/** switchyard's own model config keys (see config/model-schema.ts), passed through for validation. */
const SWITCHYARD_KEYS = new Set(['instance_count', 'execution_providers', 'intra_op_threads']);

type Translate = (value: unknown, out: Record<string, unknown>, model: string) => void;

const TRITON_KEYS: Record<string, Translate> = {
  name: (v, _out, model) => {
    if (v !== model) throw overrideError(model, `has "name": ${describe(v)}; it must be the model's name "${model}" (or left out)`);
  },
  platform: (v, _out, model) => {
    if (v !== 'onnxruntime_onnx') throw overrideError(model, `has "platform": ${describe(v)}; switchyard serves ONNX models: "onnxruntime_onnx" (or leave it out)`);
  },
  backend: (v, _out, model) => {
    if (v !== 'onnxruntime') throw overrideError(model, `has "backend": ${describe(v)}; switchyard serves ONNX models: "onnxruntime" (or leave it out)`);
  },
  max_batch_size: (v, out, model) => {
    out.max_batch_size = v === 'auto' ? v : int(v, 'max_batch_size', model);
  },
  version_policy: (v, out, model) => {
    const p = object(v, 'version_policy', model);
    if ('all' in p) out.version_policy = 'all';
    else if ('latest' in p) out.version_policy = { latest: int(object(p.latest, 'version_policy.latest', model).num_versions ?? 1, 'version_policy.latest.num_versions', model) };
    else if ('specific' in p) {
      const versions = object(p.specific, 'version_policy.specific', model).versions;
      if (!Array.isArray(versions)) throw overrideError(model, `"version_policy.specific.versions" must be a list of version numbers, got ${describe(versions)}`);
      out.version_policy = { specific: versions.map((x, i) => int(x, `version_policy.specific.versions[${i}]`, model)) };
    } else throw overrideError(model, `"version_policy" must hold "latest", "all" or "specific", got ${describe(v)}`);
  },
  instance_group: (v, out, model) => {
    if (!Array.isArray(v) || v.length === 0) throw overrideError(model, `"instance_group" must be a non-empty list such as [{"count": 2, "kind": "KIND_CPU"}], got ${describe(v)}`);
    let count = 0;
    for (const [i, g] of v.entries()) {
      const group = object(g, `instance_group[${i}]`, model);
      const kind = group.kind ?? 'KIND_AUTO';
      if (kind !== 'KIND_CPU' && kind !== 'KIND_AUTO') {
        throw overrideError(model, `"instance_group[${i}].kind" is ${describe(kind)}; use KIND_CPU or KIND_AUTO, and "execution_providers" (["cuda", "cpu"]) to run on a GPU`);
      }
      count += group.count === undefined ? 1 : int(group.count, `instance_group[${i}].count`, model);
    }
    out.instance_count = count;
  },
  dynamic_batching: (v, out, model) => {
    const db = object(v, 'dynamic_batching', model);
    const into: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(db)) {
      const at = `dynamic_batching.${k}`;
      if (k === 'preferred_batch_size') {
        if (!Array.isArray(x)) throw overrideError(model, `"${at}" must be a list of batch sizes, got ${describe(x)}`);
        into.preferred_batch_sizes = x.map((n, i) => int(n, `${at}[${i}]`, model));
      } else if (k === 'max_queue_delay_microseconds') into.max_queue_delay_us = int(x, at, model);
      else if (k === 'priority_levels') into.priority_levels = int(x, at, model);
      else if (k === 'default_priority_level') into.default_priority_level = int(x, at, model);
      else if (k === 'default_queue_policy') {
        for (const [q, y] of Object.entries(object(x, at, model))) {
          if (q === 'default_timeout_microseconds') into.default_timeout_us = int(y, `${at}.${q}`, model);
          else if (q === 'max_queue_size') into.max_queue_size = int(y, `${at}.${q}`, model);
          else if (q === 'timeout_action' && y === 'REJECT') continue;
          else if (q === 'allow_timeout_override' && y === true) continue;
          else throw overrideError(model, `has "${at}.${q.slice(0, 64)}": ${describe(y)}, which switchyard does not support (timeouts always reject and may be overridden per request)`);
        }
      } else throw overrideError(model, `has "${at.slice(0, 80)}", which switchyard does not support; supported: preferred_batch_size, max_queue_delay_microseconds, priority_levels, default_priority_level, default_queue_policy`);
    }
    out.dynamic_batching = into;
  },
};

function int(v: unknown, key: string, model: string): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw overrideError(model, `"${key}" must be an integer, got ${describe(v)}`);
  return n;
}

function object(v: unknown, key: string, model: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw overrideError(model, `"${key}" must be a JSON object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function overrideError(model: string, what: string): GatewayError {
  return new GatewayError('SY_ERR_BAD_REQUEST', `failed to load "${model}": the config override ${what}`);
}
