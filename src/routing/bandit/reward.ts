import { badReward } from '../errors.js';

/** A reward as sent to POST /v2/feedback: a finite number (bernoulli routes further need 0 or 1: checked with the request's record). */
export function checkReward(reward: unknown): number {
  if (typeof reward !== 'number' || !Number.isFinite(reward)) {
    throw badReward(`got ${typeof reward === 'number' ? String(reward) : JSON.stringify(reward) ?? typeof reward}, expected a finite number (0 or 1 for a bernoulli bandit)`);
  }
  return reward;
}
