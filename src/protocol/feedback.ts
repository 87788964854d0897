import { GatewayError } from '../core/index.js';
import { describeValue } from './json-text.js';

/** One item of a POST /v2/feedback body: the request id and what it carries (undefined = not sent). */
export interface FeedbackItem {
  readonly id: string;
  /** the ground-truth label for the label join */
  readonly label: unknown;
  /** the bandit/canary reward */
  readonly reward: unknown;
}

/**
 * Checks one feedback item: an object with a non-empty string `id` and `label` and/or
 * `reward`, nothing else. The values themselves are checked by what takes them (the label
 * join, the route's reward kind). Throws a 400 that says what was expected.
 */
export function parseFeedbackItem(item: unknown): FeedbackItem {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw new GatewayError('SY_ERR_BAD_REQUEST', 'feedback must be a JSON object {"id": "<request id>", "label": <value>} and/or "reward": <number>, or an array of them');
  }
  const f = item as Record<string, unknown>;
  for (const k of Object.keys(f)) {
    if (k !== 'id' && k !== 'label' && k !== 'reward') throw new GatewayError('SY_ERR_BAD_REQUEST', `feedback has an unknown field "${k.slice(0, 64)}"; expected "id", "label" and/or "reward"`);
  }
  if (f.label === undefined && f.reward === undefined) {
    throw new GatewayError('SY_ERR_BAD_REQUEST', 'feedback needs "label" (ground truth) or "reward" (bandit reward) besides "id"');
  }
  const id = f.id;
  if (typeof id !== 'string' || id === '') {
    throw new GatewayError('SY_ERR_BAD_REQUEST', `feedback "id" is ${describeValue(id)}; expected the non-empty request id (the response's "id" or x-request-id header)`);
  }
  return { id, label: f.label, reward: f.reward };
}
