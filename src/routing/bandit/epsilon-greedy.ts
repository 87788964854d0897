/**
 * Epsilon-greedy: with probability epsilon a uniformly random arm, otherwise the arm with
 * the highest mean reward (an arm without rewards first: the one with the fewest pulls).
 */
import type { Random } from '../random.js';
import type { BanditAlgorithm } from './algorithm.js';
import type { ArmTable } from './arms.js';

export class EpsilonGreedy implements BanditAlgorithm {
  constructor(private readonly epsilon: number) {}

  choose(arms: ArmTable, random: Random): number {
    if (random() < this.epsilon) return Math.min(Math.floor(random() * arms.count), arms.count - 1);
    const fresh = arms.unrewarded();
    if (fresh !== -1) return fresh;
    let best = 0;
    let bestMean = -Infinity;
    for (let i = 0; i < arms.count; i++) {
      const mean = arms.sum(i) / arms.rewards(i);
      if (mean > bestMean) {
        bestMean = mean;
        best = i;
      }
    }
    return best;
  }
}
