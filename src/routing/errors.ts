/** The routing errors a client or release engineer can see (codes from src/core/errors.ts). */
import { GatewayError } from '../core/errors.js';
import type { RouteView } from './views.js';

export function routeNotFound(name: string): GatewayError {
  return new GatewayError('SY_ERR_NOT_FOUND', `unknown route "${name.slice(0, 130)}"; GET /admin/routes lists the routes`);
}

export function invalidRoute(name: string, problems: readonly string[]): GatewayError {
  return new GatewayError('SY_ERR_BAD_REQUEST', `route "${name.slice(0, 130)}" was not changed: ${problems.join('; ')}`);
}

/** What POST /v2/feedback answers for an id with no request to credit (never served by a bandit or canary route, or expired). */
export function feedbackUnknown(requestId: string): GatewayError {
  return new GatewayError(
    'SY_ERR_NOT_FOUND',
    `no request "${requestId.slice(0, 130)}" awaits feedback: its id is unknown, it was not served by a bandit or canary route, or its feedback window has expired`,
  );
}

export function badReward(detail: string): GatewayError {
  return new GatewayError('SY_ERR_BAD_REQUEST', `invalid reward: ${detail}`);
}

export function conflict(message: string): GatewayError {
  return new GatewayError('SY_ERR_CONFLICT', message);
}

/**
 * A change made against a revision the route no longer has (If-Match): the caller acted on a
 * stale view. Carries the route as it is now (null: it does not exist) so that the admin API
 * answers 409 with it, and a UI can show what changed instead of overwriting it.
 */
export class StaleRouteError extends GatewayError {
  readonly current: RouteView | null;
  constructor(name: string, expected: number, current: RouteView | null) {
    const now = current === null ? 'it does not exist now' : `it is at revision ${current.revision} now`;
    super(
      'SY_ERR_CONFLICT',
      `route "${name.slice(0, 130)}" was not changed: the change was made against revision ${expected}, but ${now} (changed meanwhile); read it again (its current state is in "current"), then retry with that revision`,
    );
    this.current = current;
  }
}

export function storeUnavailable(what: string, cause: unknown): GatewayError {
  return new GatewayError('SY_ERR_STORE_UNAVAILABLE', `the route store (Redis) is unavailable: ${what} failed; retry later`, { cause, retryAfterS: 1 });
}
