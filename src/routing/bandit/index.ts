import type { BanditSpec } from '../spec.js';
import type { BanditAlgorithm } from './algorithm.js';
import { EpsilonGreedy } from './epsilon-greedy.js';
import { ThompsonSampling } from './thompson.js';
import { Ucb1 } from './ucb1.js';

export type { BanditAlgorithm } from './algorithm.js';
export { ArmTable, armPrefix, armsKey } from './arms.js';
export { checkReward } from './reward.js';
export { EpsilonGreedy, ThompsonSampling, Ucb1 };

/** The algorithms by their name in a route spec. */
const ALGORITHMS: Readonly<Record<BanditSpec['algorithm'], (spec: BanditSpec) => BanditAlgorithm>> = {
  thompson: () => new ThompsonSampling(),
  ucb1: () => new Ucb1(),
  epsilon_greedy: (spec) => new EpsilonGreedy(spec.epsilon ?? 0.1),
};

export function createAlgorithm(spec: BanditSpec): BanditAlgorithm {
  return ALGORITHMS[spec.algorithm](spec);
}
