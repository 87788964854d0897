/** Bandit assignment: the route's algorithm chooses an arm from the arms' statistics; the pull is counted. */
import { ROUTE_DEFAULTS, type BanditRouteInput } from '../../config/route-schema.js';
import { ArmTable, armPrefix, armsKey, createAlgorithm, type BanditAlgorithm } from '../bandit/index.js';
import type { Random } from '../random.js';
import type { BanditSpec } from '../spec.js';
import { listedTargetProblems, ref, type PolicyModule } from './module.js';
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

/** Bandit routes: the algorithm shifts traffic to the arm with the best reward so far. */
export const banditPolicy: PolicyModule<BanditSpec> = {
  name: 'bandit',
  normalise(input, common) {
    const b = input as BanditRouteInput;
    const algorithm = b.algorithm ?? ROUTE_DEFAULTS.algorithm;
    return {
      policy: 'bandit',
      algorithm,
      reward: b.reward ?? ROUTE_DEFAULTS.reward,
      ...(algorithm === 'epsilon_greedy' ? { epsilon: b.epsilon ?? ROUTE_DEFAULTS.epsilon } : {}),
      targets: b.targets.map(ref),
      ...common,
    };
  },
  targets: (spec) => spec.targets,
  check(spec, raw, target) {
    const problems = listedTargetProblems(spec.targets, target);
    if (raw.epsilon !== undefined && spec.algorithm !== 'epsilon_greedy') problems.push(`epsilon: applies to algorithm epsilon_greedy only, not ${spec.algorithm}`);
    return problems;
  },
  initialState: () => null,
  build(ctx) {
    const spec = ctx.spec;
    // statistics are kept per target across updates, unless the kind of reward changed
    const previous = ctx.previous?.arms ?? null;
    const kept = previous !== null && previous.reward === spec.reward ? previous.hash : null;
    const arms = new ArmTable(ctx.name, ctx.targets, spec.reward, kept);
    const kind = spec.reward === 'bernoulli' ? 'b' : 'g';
    return {
      picker: new BanditPolicy(createAlgorithm(spec), arms, ctx.random),
      stickyHeader: null,
      arms,
      window: null,
      credits: ctx.targets.map((t) => ({ route: ctx.name, hash: arms.hash.key, prefix: armPrefix(t), reward: kind })),
      canaryStep: null,
    };
  },
  view(route) {
    const arms = route.arms;
    if (arms === null) return { canary: null, bandit: null };
    return {
      canary: null,
      bandit: {
        arms: route.targets.map((t, i) => ({
          model: t.model,
          version: t.version,
          pulls: arms.pulls(i),
          rewards: arms.rewards(i),
          reward_sum: arms.sum(i),
          reward_mean: arms.mean(i),
        })),
      },
    };
  },
  // the arms' statistics mean nothing once the route stops being a bandit or its kind of reward changes
  dropCounters: (name, before, after) => (after.policy !== 'bandit' || after.reward !== before.reward ? [armsKey(name)] : []),
};
