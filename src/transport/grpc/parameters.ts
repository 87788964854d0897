/**
 * `map<string, InferParameter>` ⇄ the plain parameter objects of InferRequest/Tensor (the
 * JSON values REST carries): bool → boolean, int64/uint64 → number (a bigint only past
 * 2^53), double → number, string → string. Writing back, integers become int64_param,
 * other numbers double_param, and anything else its JSON text as string_param.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { InferParameter, InferParameterSchema } from '../../gen/grpc_service_pb.js';

type ParameterInit = MessageInitShape<typeof InferParameterSchema>;

function valueOf(p: InferParameter): unknown {
  const c = p.parameterChoice;
  switch (c.case) {
    case 'int64Param':
    case 'uint64Param':
      return c.value >= BigInt(Number.MIN_SAFE_INTEGER) && c.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(c.value) : c.value;
    case undefined:
      return null;
    default:
      return c.value;
  }
}

/** The parameters as a plain object, or null when there are none. */
export function readParameters(map: { [key: string]: InferParameter }): Record<string, unknown> | null {
  let out: Record<string, unknown> | null = null;
  for (const key in map) (out ??= {})[key] = valueOf(map[key]);
  return out;
}

function parameterOf(v: unknown): ParameterInit {
  switch (typeof v) {
    case 'boolean':
      return { parameterChoice: { case: 'boolParam', value: v } };
    case 'string':
      return { parameterChoice: { case: 'stringParam', value: v } };
    case 'bigint':
      return { parameterChoice: { case: 'int64Param', value: v } };
    case 'number':
      return Number.isSafeInteger(v)
        ? { parameterChoice: { case: 'int64Param', value: BigInt(v) } }
        : { parameterChoice: { case: 'doubleParam', value: v } };
    default:
      return { parameterChoice: { case: 'stringParam', value: JSON.stringify(v) ?? '' } };
  }
}

/** `params` as a protobuf map, leaving out the keys in `skip`. */
export function writeParameters(params: Record<string, unknown> | null, skip: string | null = null): { [key: string]: ParameterInit } {
  const out: { [key: string]: ParameterInit } = {};
  if (params === null) return out;
  for (const key of Object.keys(params)) {
    if (key !== skip) out[key] = parameterOf(params[key]);
  }
  return out;
}
