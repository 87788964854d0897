/**
 * PATCH /admin/routes/{name}: a JSON merge patch (RFC 7396) of the route's spec (keys
 * replace, null removes, lists are replaced whole), plus one shorthand for the common case
 * of changing weights only:
 *
 *   { "weights": { "tabular:1": 0, "tabular:2": 100 } }
 *
 * sets the weight of each named target of a weighted route (targets not named keep theirs).
 * The result is validated like a PUT.
 */
import { isPlainObject } from '../config/merge.js';
import type { RouteSpec } from './spec.js';

/** The patched spec (not yet validated), or a list of problems with the patch itself. */
export function patchRouteSpec(spec: RouteSpec, patch: unknown): { spec: unknown } | { problems: string[] } {
  if (!isPlainObject(patch)) return { problems: ['the patch: expected a mapping (a JSON merge patch of the spec, or { "weights": { "<model>:<version>": <weight> } })'] };
  const { weights, ...rest } = patch;
  const merged = mergePatch(structuredClone(spec) as unknown, rest);
  if (weights === undefined) return { spec: merged };
  if (!isPlainObject(merged) || merged.policy !== 'weighted' || !Array.isArray(merged.targets)) {
    return { problems: ['weights: applies to weighted routes only'] };
  }
  if (!isPlainObject(weights)) return { problems: ['weights: expected a mapping of "<model>:<version>" to a weight'] };
  const problems: string[] = [];
  const targets = merged.targets as Record<string, unknown>[];
  for (const [key, weight] of Object.entries(weights)) {
    const target = targets.find((t) => isPlainObject(t) && `${String(t.model)}:${String(t.version)}` === key);
    if (target === undefined) {
      problems.push(`weights.${key}: not a target of the route; its targets are ${targets.map((t) => `${String(t.model)}:${String(t.version)}`).join(', ')}`);
    } else {
      target.weight = weight;
    }
  }
  return problems.length > 0 ? { problems } : { spec: merged };
}

/** RFC 7396 JSON merge patch (`target` may be changed). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    // defineProperty: a key named __proto__ stays a key (validation then rejects it)
    else Object.defineProperty(out, key, { value: mergePatch(Object.hasOwn(out, key) ? out[key] : undefined, value), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
