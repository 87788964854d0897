/**
 * UCB1: the arm with the highest mean reward plus an exploration bonus
 * c * sqrt(2 ln N / n_i) (N rewards in all, n_i for the arm). c = 1 for bernoulli rewards
 * (in [0, 1]); for gaussian rewards c is the pooled standard deviation, so the bonus has
 * the rewards' scale. An arm without rewards goes first (the one with the fewest pulls).
 */
import type { BanditAlgorithm } from './algorithm.js';
import type { ArmTable } from './arms.js';

export class Ucb1 implements BanditAlgorithm {
  choose(arms: ArmTable): number {
    const fresh = arms.unrewarded();
    if (fresh !== -1) return fresh;
    let total = 0;
    for (let i = 0; i < arms.count; i++) total += arms.rewards(i);
    const c = arms.reward === 'bernoulli' ? 1 : Math.sqrt(arms.pooled().variance);
    const logN = Math.log(total);
    let best = 0;
    let bestScore = -Infinity;
    for (let i = 0; i < arms.count; i++) {
      const n = arms.rewards(i);
      const score = arms.sum(i) / n + c * Math.sqrt((2 * logN) / n);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return best;
  }
}
