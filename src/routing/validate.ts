/**
 * Validation of a route spec sent to the admin API or written in the config: the schema
 * (route-schema.ts, every problem with the path of its key), then the rules that need the
 * served models or span keys. A rejected spec changes nothing; the error lists every
 * problem found.
 */
import { formatValue, type ConfigIssue } from '../config/errors.js';
import { isValidRouteName, routeSpecIssues, type RouteSpecInput } from '../config/route-schema.js';
import type { GatewayError } from '../core/errors.js';
import type { Catalog } from './catalog.js';
import { invalidRoute } from './errors.js';
import { normaliseRouteSpec, type RouteSpec, type TargetSpec } from './spec.js';
import { policyOf } from './policies/index.js';

/** The problems of a route name: its charset, and not naming a model (a route is called like one). */
export function routeNameProblems(name: string, catalog: Catalog): string[] {
  if (!isValidRouteName(name)) {
    return [`invalid route name ${JSON.stringify(name.slice(0, 130))}: use letters, digits, "_", "-" and "." (not first), at most 128 characters`];
  }
  if (catalog.versions(name).length > 0) return [`"${name}" is the name of a model; a route needs a name of its own`];
  return [];
}

/** A checked, normalised spec, or the GatewayError (SY_ERR_BAD_REQUEST) listing every problem. */
export function checkRouteSpec(name: string, raw: unknown, catalog: Catalog): RouteSpec | GatewayError {
  const nameProblems = routeNameProblems(name, catalog);
  if (nameProblems.length > 0) return invalidRoute(name, nameProblems);
  const issues = routeSpecIssues(raw, 'spec');
  if (issues.length > 0) return invalidRoute(name, issues.map(describeIssue));
  const spec = normaliseRouteSpec(raw as RouteSpecInput);
  const problems = ruleProblems(spec, raw as Record<string, unknown>, catalog);
  return problems.length > 0 ? invalidRoute(name, problems) : spec;
}

/** As checkRouteSpec, throwing the error. */
export function parseRouteSpec(name: string, raw: unknown, catalog: Catalog): RouteSpec {
  const out = checkRouteSpec(name, raw, catalog);
  if (out instanceof Error) throw out;
  return out;
}

function describeIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? 'the spec' : issue.path;
  const tail = issue.detail === '' ? '' : ` ${issue.detail}`;
  if (issue.kind === 'unknown-key') return `${where}: unknown key, expected ${issue.expected}${tail}`;
  return `${where}: got ${formatValue(issue.value)}, expected ${issue.expected}${tail}`;
}

function targetProblem(t: TargetSpec, at: string, catalog: Catalog): string | null {
  if (catalog.has(t.model, t.version)) return null;
  const versions = catalog.versions(t.model);
  if (versions.length === 0) return `${at}.model: unknown model "${t.model}"; GET /v2/repository/index lists the models`;
  return `${at}.version: model "${t.model}" has no version "${t.version}"; it serves ${versions.join(', ')}`;
}

function ruleProblems(spec: RouteSpec, raw: Record<string, unknown>, catalog: Catalog): string[] {
  const problems = policyOf(spec).check(spec, raw, (t, at) => targetProblem(t, at, catalog));
  const add = (p: string | null): void => {
    if (p !== null) problems.push(p);
  };
  const shadows = new Set<string>();
  spec.shadow.forEach((s, i) => {
    add(targetProblem(s, `shadow[${i}]`, catalog));
    const key = `${s.model}:${s.version}`;
    if (shadows.has(key)) problems.push(`shadow[${i}]: ${key} is listed twice; each shadow target appears once`);
    shadows.add(key);
  });
  return problems;
}
