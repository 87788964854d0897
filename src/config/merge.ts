/**
 * Plain-data helpers for the normalise step: layering a config over its defaults, and
 * freezing the result. Merging follows the schema: keys whose schema is an Object merge
 * key by key; everything else (lists, unions such as version_policy, scalars) is replaced
 * whole, so `{ latest: 1 }` under `{ specific: [2] }` never mixes into nonsense.
 */
import { Kind, type TSchema } from '@sinclair/typebox';

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends readonly (infer V)[]
    ? readonly DeepReadonly<V>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isObjectSchema(schema: TSchema | undefined): schema is TSchema {
  return schema !== undefined && schema[Kind] === 'Object';
}

/** Sets an own property, even one named `__proto__` (it is then reported as an unknown key). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function copy(value: unknown): unknown {
  return value === undefined ? undefined : structuredClone(value);
}

/**
 * `override` layered over `base` (neither is modified). For a key whose schema is an
 * Object, a null or missing override keeps the base: in YAML `redis:` with every child
 * commented out reads as null and means "defaults". Unknown keys are kept so that
 * validation reports them.
 */
export function mergeUnder(schema: TSchema, base: unknown, override: unknown): unknown {
  if (override === undefined) return copy(base);
  if (!isObjectSchema(schema)) return copy(override);
  if (override === null) return copy(base);
  if (!isPlainObject(base) || !isPlainObject(override)) return copy(override);
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  // the override's keys first, in its order (error messages follow the file), then the rest
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(override)) {
    const child = Object.hasOwn(properties, key) ? properties[key] : undefined;
    const under = Object.hasOwn(base, key) ? base[key] : undefined;
    setOwn(out, key, child === undefined ? copy(value) : mergeUnder(child, under, value));
  }
  for (const [key, value] of Object.entries(base)) {
    if (!Object.hasOwn(out, key)) setOwn(out, key, copy(value));
  }
  return out;
}

/** Freezes a plain-data value and everything inside it; returns it typed read-only. */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value as DeepReadonly<T>;
}

/** The value at `path` inside plain objects, or undefined. */
export function getPath(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/**
 * Sets `value` at `path`, creating missing plain objects on the way. Returns false (and
 * changes nothing) when something on the way is not a plain object: validation reports that.
 */
export function setPath(root: unknown, path: readonly string[], value: unknown): boolean {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node)) return false;
    if (node[key] === undefined || node[key] === null) setOwn(node, key, {});
    node = node[key];
  }
  if (!isPlainObject(node)) return false;
  setOwn(node, path[path.length - 1], value);
  return true;
}
