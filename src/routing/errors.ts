/** The routing errors a client or release engineer can see (codes from src/core/errors.ts). */
import { GatewayError } from '../core/errors.js';

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

export function storeUnavailable(what: string, cause: unknown): GatewayError {
  return new GatewayError('SY_ERR_STORE_UNAVAILABLE', `the route store (Redis) is unavailable: ${what} failed; retry later`, { cause, retryAfterS: 1 });
}
