/**
 * Turns TypeBox validation errors into ConfigIssues whose wording comes from the schema:
 * an `Integer({ minimum: 0, maximum: 65535 })` reads "an integer 0..65535". A schema node
 * may carry two extra annotations (stripped from the published JSON Schema):
 *   expected: string  the phrase to use instead of the derived one
 *   secret:   true    never print the value (tokens)
 */
import { Kind, type TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { configIssue, formatPath, type ConfigIssue } from './errors.js';
import { isPlainObject } from './merge.js';
import { suggestKey } from './suggest.js';

function annotation(schema: TSchema, key: 'expected' | 'secret'): unknown {
  return (schema as Record<string, unknown>)[key];
}

function kindOf(schema: TSchema): string {
  return String(schema[Kind]);
}

/** The phrase that says what a schema accepts: "an integer >= 1", "one of debug | info". */
export function describeSchema(schema: TSchema): string {
  const custom = annotation(schema, 'expected');
  if (typeof custom === 'string') return custom;
  switch (kindOf(schema)) {
    case 'Integer':
      return describeRange('an integer', schema);
    case 'Number':
      return describeRange('a number', schema);
    case 'String':
      return typeof schema.minLength === 'number' && schema.minLength > 0 ? 'a non-empty string' : 'a string';
    case 'Boolean':
      return 'true or false';
    case 'Null':
      return 'null';
    case 'Literal':
      return JSON.stringify(schema.const);
    case 'Union': {
      const variants = schema.anyOf as TSchema[];
      if (variants.every((v) => kindOf(v) === 'Literal')) {
        return `one of ${variants.map((v) => String(v.const)).join(' | ')}`;
      }
      return joinOr(variants.map(describeSchema));
    }
    case 'Array':
      return `a list of ${describeSchema(schema.items as TSchema)}`;
    case 'Object':
      return 'a mapping';
    default:
      return 'a valid value';
  }
}

function describeRange(noun: string, schema: TSchema): string {
  const min = typeof schema.minimum === 'number' ? schema.minimum : null;
  const max = typeof schema.maximum === 'number' ? schema.maximum : null;
  if (min !== null && max !== null) return `${noun} ${min}..${max}`;
  if (min !== null) return `${noun} >= ${min}`;
  if (max !== null) return `${noun} <= ${max}`;
  return noun;
}

function joinOr(parts: readonly string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/**
 * Every issue TypeBox finds in `value`, one per key path, in document order.
 * `sourceOf(path)` names where the value at a dotted path came from.
 */
export function schemaIssues(
  check: TypeCheck<TSchema>,
  value: unknown,
  sourceOf: (path: string) => string,
): ConfigIssue[] {
  if (check.Check(value)) return [];
  const root = check.Schema();
  const order = documentOrder(value);
  const found: { issue: ConfigIssue; rank: number }[] = [];
  const seen = new Set<string>();
  for (const error of flattenUnions(check.Errors(value))) {
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    found.push({ issue: toIssue(error, root, value, sourceOf), rank: rankOf(error.path, order) });
  }
  return found.sort((a, b) => a.rank - b.rank).map((f) => f.issue);
}

/** JSON pointer of every node in `document`, numbered in the order its keys were written. */
function documentOrder(document: unknown): Map<string, number> {
  const order = new Map<string, number>();
  const visit = (node: unknown, pointer: string): void => {
    order.set(pointer, order.size);
    if (Array.isArray(node)) node.forEach((child, i) => visit(child, `${pointer}/${i}`));
    else if (isPlainObject(node)) {
      for (const [key, child] of Object.entries(node)) visit(child, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    }
  };
  visit(document, '');
  return order;
}

/** The position of `pointer`, or of its nearest ancestor present in the document. */
function rankOf(pointer: string, order: Map<string, number>): number {
  for (let p = pointer; ; p = parentPointer(p)) {
    const rank = order.get(p);
    if (rank !== undefined) return rank;
    if (p === '') return 0;
  }
}

function toIssue(error: ValueError, root: TSchema, document: unknown, sourceOf: (path: string) => string): ConfigIssue {
  const segments = pointerSegments(error.path, document);
  const path = formatPath(segments);
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    const key = String(segments[segments.length - 1]);
    const known = Object.keys((error.schema.properties ?? {}) as Record<string, unknown>);
    const hint = suggestKey(key, known, formatPath(segments.slice(0, -1)), root);
    return configIssue({
      kind: 'unknown-key',
      source: sourceOf(path),
      path,
      value: error.value,
      expected: known.length === 0 ? 'no keys here' : `one of ${known.join(', ')}`,
      detail: hint,
    });
  }
  return configIssue({
    source: sourceOf(path),
    path,
    value: error.value,
    expected: describeSchema(error.schema),
    secret: annotation(error.schema, 'secret') === true,
  });
}

/**
 * TypeBox reports a failed union as one error holding each variant's errors. A variant
 * "fits" when the value has its type (no error at the union's own path). When one variant
 * fits, or exactly one fits without missing or unknown keys directly under the union, its
 * errors are more precise: report those (`version_policy.latest: got 0, expected an
 * integer >= 1`). Otherwise report the union as a whole
 * (`version_policy: got {}, expected "all", { latest: ... } or { specific: ... }`).
 */
function* flattenUnions(errors: Iterable<ValueError>): Generator<ValueError> {
  for (const error of errors) {
    if (error.type !== ValueErrorType.Union) {
      yield error;
      continue;
    }
    const fitting = error.errors.map((variant) => [...variant]).filter((list) => list.length > 0 && list.every((e) => e.path !== error.path));
    const exact = fitting.filter((list) => !list.some((e) => isStructural(e, error.path)));
    const chosen = fitting.length === 1 ? fitting[0] : exact.length === 1 ? exact[0] : null;
    if (chosen === null) yield error;
    else yield* flattenUnions(chosen);
  }
}

/** A missing or unknown key directly under `pointer`: the value has another variant's shape. */
function isStructural(e: ValueError, pointer: string): boolean {
  return (
    parentPointer(e.path) === pointer &&
    (e.type === ValueErrorType.ObjectRequiredProperty || e.type === ValueErrorType.ObjectAdditionalProperties)
  );
}

function parentPointer(pointer: string): string {
  return pointer.slice(0, Math.max(0, pointer.lastIndexOf('/')));
}

/** `/dynamic_batching/preferred_batch_sizes/1` → ['dynamic_batching', 'preferred_batch_sizes', 1] */
function pointerSegments(pointer: string, document: unknown): (string | number)[] {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let node: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(seg)) {
      const index = Number(seg);
      out.push(index);
      node = node[index];
    } else {
      out.push(seg);
      node = isPlainObject(node) ? node[seg] : undefined;
    }
  }
  return out;
}
