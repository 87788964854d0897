/**
 * Routing: routes (virtual models) whose policy picks the target model version of each
 * request — weighted (A/B/n, blue/green, sticky), canary (stepwise with automatic
 * analysis), bandit (Thompson sampling, UCB1, epsilon-greedy) — with shadow traffic,
 * pinning, feedback, admin operations with audit, and memory or Redis state.
 */
export { Router, ROUTE_ACTIONS, CONFIG_ACTOR, type FeedbackOutcome, type RouteAdmin, type RouteAction, type RouterOptions, type ShadowOutcome } from './router.js';
export { Decision, type RouteRequest } from './decision.js';
export { Target, TARGET_HEADER, parseTargetHeader } from './target.js';
export type { Catalog } from './catalog.js';
export { systemClock, type Clock } from './clock.js';
export { seededRandom, type Random } from './random.js';
export { compareOutputs, ShadowComparison } from './shadow/index.js';
export { checkRouteSpec, parseRouteSpec, routeNameProblems } from './validate.js';
export { normaliseRouteSpec, type BanditSpec, type CanarySpec, type RouteSpec, type WeightedSpec } from './spec.js';
export { feedbackUnknown, routeNotFound, StaleRouteError } from './errors.js';
export type { ArmView, CanaryView, RouteView, TargetCountsView } from './views.js';
export type { CanaryAction, CanaryEvent, CanaryGate, CanaryState, CanaryStatus } from './canary/index.js';
export {
  FileRouteStore,
  MemoryRouteStore,
  RedisRouteStore,
  StateFileError,
  createRouteStore,
  type AuditEntry,
  type CreateRouteStoreOptions,
  type MemoryRouteStoreOptions,
  type RedisRouteStoreOptions,
  type RouteStore,
} from './store/index.js';
export {
  ROUTE_CANARY_CHANNEL,
  ROUTE_FEEDBACK_CHANNEL,
  ROUTE_REQUEST_CHANNEL,
  ROUTE_SHADOW_CHANNEL,
  ROUTE_STATS_CHANNEL,
  type ArmStats,
  type CanaryTransitionEvent,
  type FeedbackEvent,
  type RouteStats,
  type RouteStatsEvent,
  type ShadowEvent,
} from './diagnostics.js';
