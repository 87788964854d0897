/**
 * The schema of one route spec: a virtual model whose policy picks the target
 * model@version of each request. The same JSON/YAML shape is written under `routes:` in the
 * server config and sent to the admin API (PUT /admin/routes/{name}):
 *
 *   { policy: weighted, targets: [{model, version, weight}], sticky?: {header} }
 *   { policy: canary, baseline: {model, version}, candidate: {model, version}, steps,
 *     step_interval_s, analysis: {min_requests, max_error_rate, max_p99_latency_ratio, min_reward_ratio} }
 *   { policy: bandit, algorithm, reward, epsilon?, targets: [{model, version}] }
 *   any policy: shadow?: [{model, version, percent}], allow_pinning?: boolean
 *
 * Optional keys carry their `default` (editors show it); src/routing fills them in when it
 * normalises a spec. Checking dispatches on `policy` first so that an error names the key
 * of the policy written (`targets[1].weight: got -1, expected a number >= 0`) instead of
 * "fits none of the three shapes". Rules between keys (models that exist, weights not all
 * zero, increasing steps …) are checked by src/routing, which knows the served models.
 */
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { configIssue, type ConfigIssue } from './errors.js';
import { isPlainObject, type DeepReadonly } from './merge.js';
import { schemaIssues } from './schema-issues.js';

/** Route and model names: letters, digits, '_', '-', '.'; not starting with '.' (as model names). */
export const ROUTE_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$';
const VERSION_PATTERN = '^[1-9][0-9]{0,17}$';
/** An HTTP header name (RFC 9110 token). */
const HEADER_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$";

export const ROUTE_POLICIES = ['weighted', 'canary', 'bandit'] as const;
export type RoutePolicyName = (typeof ROUTE_POLICIES)[number];
export const BANDIT_ALGORITHMS = ['thompson', 'ucb1', 'epsilon_greedy'] as const;
export const BANDIT_REWARDS = ['bernoulli', 'gaussian'] as const;

/** Defaults of the optional keys (what src/routing fills in). */
export const ROUTE_DEFAULTS = Object.freeze({
  allow_pinning: true,
  steps: Object.freeze([5, 25, 50, 100]),
  step_interval_s: 60,
  analysis: Object.freeze({ min_requests: 100, max_error_rate: 0.01, max_p99_latency_ratio: 1.5, min_reward_ratio: 0.95 }),
  algorithm: 'thompson' as const,
  reward: 'bernoulli' as const,
  epsilon: 0.1,
});

const modelName = Type.String({
  pattern: ROUTE_NAME_PATTERN,
  description: 'a model of the repository',
  expected: 'a model name (letters, digits, _ - . not first, at most 128 characters)',
});
const version = Type.Union([Type.String({ pattern: VERSION_PATTERN }), Type.Integer({ minimum: 1 })], {
  description: 'a served version of the model ("1" or 1)',
  expected: 'a version: a positive integer, as a string or a number',
});

const targetRef = (description: string) =>
  Type.Object({ model: modelName, version }, { additionalProperties: false, description, expected: '{ model, version }' });

export const WeightedTargetSchema = Type.Object(
  {
    model: modelName,
    version,
    weight: Type.Number({ minimum: 0, description: 'share of the traffic, relative to the other weights; 0 = none (blue/green: 0 and 100)' }),
  },
  { additionalProperties: false, description: 'a target of a weighted route', expected: '{ model, version, weight }' },
);

export const ShadowTargetSchema = Type.Object(
  {
    model: modelName,
    version,
    percent: Type.Number({ minimum: 0, maximum: 100, description: 'percent of the requests (0..100) mirrored to this target' }),
  },
  { additionalProperties: false, description: 'a shadow target', expected: '{ model, version, percent }' },
);

const commonProperties = {
  shadow: Type.Optional(
    Type.Array(ShadowTargetSchema, {
      maxItems: 8,
      description:
        'targets that get a mirrored copy of a share of the requests at the lowest priority; the client never waits for them, and their outputs are compared with the response',
      expected: 'a list of at most 8 { model, version, percent }',
    }),
  ),
  allow_pinning: Type.Optional(
    Type.Boolean({
      default: ROUTE_DEFAULTS.allow_pinning,
      description: 'whether the request header x-switchyard-target: <model>[:<version>] forces the target (for testing); false = the header is ignored',
    }),
  ),
};

export const WeightedRouteSchema = Type.Object(
  {
    policy: Type.Literal('weighted', { description: 'random assignment by weight (A/B/n; blue/green with weights 0 and 100)' }),
    targets: Type.Array(WeightedTargetSchema, { minItems: 1, description: 'the targets and their weights', expected: 'a non-empty list of { model, version, weight }' }),
    sticky: Type.Optional(
      Type.Object(
        {
          header: Type.String({
            pattern: HEADER_PATTERN,
            description: 'request header whose value keeps a client on one target (consistent hashing: a weight change moves only the keys it must)',
            expected: 'an HTTP header name',
          }),
        },
        { additionalProperties: false, description: 'assign by a request header instead of at random', expected: '{ header }' },
      ),
    ),
    ...commonProperties,
  },
  { additionalProperties: false, description: 'weighted route (A/B/n, blue/green)' },
);

export const CanaryAnalysisSchema = Type.Object(
  {
    min_requests: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: ROUTE_DEFAULTS.analysis.min_requests,
        description: 'requests each side (baseline, candidate) needs in a step before it is judged; fewer extends the step',
      }),
    ),
    max_error_rate: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, default: ROUTE_DEFAULTS.analysis.max_error_rate, description: "highest share (0..1) of the candidate's requests that may fail" }),
    ),
    max_p99_latency_ratio: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        default: ROUTE_DEFAULTS.analysis.max_p99_latency_ratio,
        description: "highest p99 latency of the candidate as a multiple of the baseline's",
        expected: 'a number > 0',
      }),
    ),
    min_reward_ratio: Type.Optional(
      Type.Number({
        minimum: 0,
        default: ROUTE_DEFAULTS.analysis.min_reward_ratio,
        description: "lowest mean feedback reward of the candidate as a multiple of the baseline's (checked when both sides have rewards)",
      }),
    ),
  },
  { additionalProperties: false, description: 'the gates each step must pass' },
);

export const CanaryRouteSchema = Type.Object(
  {
    policy: Type.Literal('canary', { description: 'move traffic to a candidate step by step, rolling back when it does worse than the baseline' }),
    baseline: targetRef('the version serving now'),
    candidate: targetRef('the version being released'),
    steps: Type.Optional(
      Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 100 }), {
        minItems: 1,
        default: ROUTE_DEFAULTS.steps,
        description: 'percent of the traffic the candidate gets at each step, increasing; passing the last step (or reaching 100) promotes it',
        expected: 'a non-empty list of increasing percents in (0, 100]',
      }),
    ),
    step_interval_s: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, default: ROUTE_DEFAULTS.step_interval_s, description: 'seconds each step lasts before it is analysed', expected: 'a number > 0' }),
    ),
    analysis: Type.Optional(CanaryAnalysisSchema),
    ...commonProperties,
  },
  { additionalProperties: false, description: 'canary route' },
);

export const BanditRouteSchema = Type.Object(
  {
    policy: Type.Literal('bandit', { description: 'each target is an arm; feedback rewards (POST /v2/feedback) move traffic to the best one' }),
    algorithm: Type.Optional(
      Type.Union(
        BANDIT_ALGORITHMS.map((a) => Type.Literal(a)),
        { default: ROUTE_DEFAULTS.algorithm, description: 'thompson (Thompson sampling), ucb1 or epsilon_greedy' },
      ),
    ),
    reward: Type.Optional(
      Type.Union(
        BANDIT_REWARDS.map((r) => Type.Literal(r)),
        { default: ROUTE_DEFAULTS.reward, description: 'bernoulli: rewards are 0 or 1; gaussian: any real number' },
      ),
    ),
    epsilon: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, default: ROUTE_DEFAULTS.epsilon, description: 'epsilon_greedy only: share of the requests (0..1) sent to a random arm' }),
    ),
    targets: Type.Array(targetRef('an arm'), { minItems: 2, description: 'the arms', expected: 'a list of at least 2 { model, version }' }),
    ...commonProperties,
  },
  { additionalProperties: false, description: 'multi-armed bandit route' },
);

/** One route spec as written in a file or sent to the admin API. */
export const RouteSpecSchema = Type.Union([WeightedRouteSchema, CanaryRouteSchema, BanditRouteSchema], {
  description: 'a route: a virtual model whose policy picks the target model@version of each request',
  expected: 'a route: { policy: weighted | canary | bandit, ... }',
});

/** The `routes:` section: route name → spec. */
export const RoutesSchema = Type.Record(Type.String(), RouteSpecSchema, {
  default: {},
  propertyNames: { pattern: ROUTE_NAME_PATTERN },
  description: 'routes (virtual models) by name; a name follows the rules of model names and is not the name of a model. Managed at run time with /admin/routes',
});

/**
 * The `routes:` section as the server config's validator holds it: each route only has to
 * be a mapping here, and routeConfigIssues checks it against its policy's shape (the
 * published RoutesSchema would report a wrong key as "fits none of the three policies").
 */
export const RoutesConfigSchema = Type.Record(
  Type.String(),
  Type.Unsafe<Static<typeof RouteSpecSchema>>(
    Type.Object({}, { additionalProperties: true, description: RouteSpecSchema.description, expected: 'a route spec: a mapping with a policy (weighted | canary | bandit)' }),
  ),
  { default: {}, description: RoutesSchema.description },
);

export type RouteSpecInput = DeepReadonly<Static<typeof RouteSpecSchema>>;
export type WeightedRouteInput = DeepReadonly<Static<typeof WeightedRouteSchema>>;
export type CanaryRouteInput = DeepReadonly<Static<typeof CanaryRouteSchema>>;
export type BanditRouteInput = DeepReadonly<Static<typeof BanditRouteSchema>>;

const CHECKS: Readonly<Record<RoutePolicyName, TypeCheck<TObject>>> = {
  weighted: TypeCompiler.Compile(WeightedRouteSchema),
  canary: TypeCompiler.Compile(CanaryRouteSchema),
  bandit: TypeCompiler.Compile(BanditRouteSchema),
};

/**
 * Every schema issue of one route spec, paths relative to the spec (`targets[1].weight`,
 * '' = the spec itself). The policy is checked first; then the spec against that policy's
 * shape. `source` names where it came from in each issue.
 */
export function routeSpecIssues(value: unknown, source: string): ConfigIssue[] {
  if (!isPlainObject(value)) {
    return [configIssue({ source, path: '', value, expected: 'a route spec: a mapping with a policy (weighted | canary | bandit)' })];
  }
  const policy = value.policy;
  if (typeof policy !== 'string' || !(ROUTE_POLICIES as readonly string[]).includes(policy)) {
    return [configIssue({ source, path: 'policy', value: policy, expected: `one of ${ROUTE_POLICIES.join(' | ')}` })];
  }
  return schemaIssues(CHECKS[policy as RoutePolicyName] as TypeCheck<TSchema>, value, () => source);
}

/** `name` is a valid route name (the rules of model names). */
export function isValidRouteName(name: string): boolean {
  return new RegExp(ROUTE_NAME_PATTERN).test(name);
}

/**
 * The issues of the server config's `routes:` section (names and spec shapes), with paths
 * from the config's root (`routes.ab.targets[1].weight`), for validateServerConfig. What
 * needs the served models (unknown model or version, a route named like a model) is
 * checked when the router starts.
 */
export function routeConfigIssues(config: unknown, sourceOf: (key: string) => string): ConfigIssue[] {
  if (!isPlainObject(config) || !isPlainObject(config.routes)) return [];
  const issues: ConfigIssue[] = [];
  for (const [name, spec] of Object.entries(config.routes)) {
    const at = `routes${/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`}`;
    if (!isValidRouteName(name)) {
      issues.push(
        configIssue({
          kind: 'unknown-key',
          source: sourceOf(at),
          path: at,
          value: spec,
          expected: 'a route name of letters, digits, _ - . (not first), at most 128 characters',
        }),
      );
      continue;
    }
    for (const issue of routeSpecIssues(spec, sourceOf(at))) {
      const path = issue.path === '' ? at : issue.path.startsWith('[') ? `${at}${issue.path}` : `${at}.${issue.path}`;
      issues.push(configIssue({ ...issue, path }));
    }
  }
  return issues;
}
