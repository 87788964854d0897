/**
 * The statistics of a bandit route's arms, over a CounterHash (`<target>|pulls`,
 * `<target>|n`, `<target>|sum`, `<target>|sumsq` per arm) so that replicas share them.
 * `pulls` counts requests sent to the arm; `n`, `sum` and `sumsq` count the rewards
 * credited to it (feedback may never come for some requests).
 */
import { CounterHash } from '../counters.js';
import type { RewardKind } from '../spec.js';
import type { Target } from '../target.js';

const PULLS = 0;
const N = 1;
const SUM = 2;
const SUMSQ = 3;
const PER_ARM = 4;

export function armsKey(route: string): string {
  return `arms:${route}`;
}

/** The field prefix of an arm's rewards. */
export function armPrefix(target: Target): string {
  return `${target.key}|`;
}

export class ArmTable {
  readonly hash: CounterHash;
  readonly count: number;
  readonly reward: RewardKind;

  /** `previous`: the arms of the route before an update (their statistics are kept per target). */
  constructor(route: string, targets: readonly Target[], reward: RewardKind, previous: CounterHash | null = null) {
    const fields: string[] = [];
    for (const t of targets) {
      const p = armPrefix(t);
      fields.push(`${p}pulls`, `${p}n`, `${p}sum`, `${p}sumsq`);
    }
    this.hash = CounterHash.successor(previous, armsKey(route), fields);
    this.count = targets.length;
    this.reward = reward;
  }

  pulls(arm: number): number {
    return this.hash.value(arm * PER_ARM + PULLS);
  }

  /** rewards credited */
  rewards(arm: number): number {
    return this.hash.value(arm * PER_ARM + N);
  }

  sum(arm: number): number {
    return this.hash.value(arm * PER_ARM + SUM);
  }

  sumsq(arm: number): number {
    return this.hash.value(arm * PER_ARM + SUMSQ);
  }

  /** mean reward, or null without rewards */
  mean(arm: number): number | null {
    const n = this.rewards(arm);
    return n > 0 ? this.sum(arm) / n : null;
  }

  recordPull(arm: number): void {
    this.hash.add(arm * PER_ARM + PULLS, 1);
  }

  /** Adds a reward here (tests and simulations; feedback goes through the store). */
  addReward(arm: number, reward: number): void {
    this.hash.add(arm * PER_ARM + N, 1);
    this.hash.add(arm * PER_ARM + SUM, reward);
    this.hash.add(arm * PER_ARM + SUMSQ, reward * reward);
  }

  /** Mean and variance of every reward of every arm (variance 1 and mean 0 with fewer than 2 rewards). */
  pooled(): { mean: number; variance: number } {
    let n = 0;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < this.count; i++) {
      n += this.rewards(i);
      s += this.sum(i);
      s2 += this.sumsq(i);
    }
    if (n < 2) return { mean: n > 0 ? s / n : 0, variance: 1 };
    const variance = (s2 - (s * s) / n) / (n - 1);
    return { mean: s / n, variance: variance > 1e-12 ? variance : 1e-12 };
  }

  /** The arm with no reward yet and the fewest pulls (spreads traffic while feedback is pending), or -1. */
  unrewarded(): number {
    let best = -1;
    for (let i = 0; i < this.count; i++) {
      if (this.rewards(i) <= 0 && (best === -1 || this.pulls(i) < this.pulls(best))) best = i;
    }
    return best;
  }
}
