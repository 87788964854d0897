/** Bandit assignment: the route's algorithm chooses an arm from the arms' statistics; the pull is counted. */
import type { ArmTable, BanditAlgorithm } from '../bandit/index.js';
import type { Random } from '../random.js';
import type { Policy } from './policy.js';

export class BanditPolicy implements Policy {
  constructor(
    private readonly algorithm: BanditAlgorithm,
    private readonly arms: ArmTable,
    private readonly random: Random,
  ) {}

  pick(): number {
    const arm = this.algorithm.choose(this.arms, this.random);
    this.arms.recordPull(arm);
    return arm;
  }
}
