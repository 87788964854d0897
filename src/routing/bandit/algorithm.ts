import type { Random } from '../random.js';
import type { ArmTable } from './arms.js';

/** A bandit algorithm: which arm serves the next request, given the arms' statistics. */
export interface BanditAlgorithm {
  choose(arms: ArmTable, random: Random): number;
}
