/**
 * Weighted assignment. Without a key: at random in proportion to the weights. With a key
 * (sticky): weighted rendezvous hashing. Each target i scores -w_i / ln(u_i(key)), u_i a
 * hash of (key, target) uniform in (0, 1); the highest score wins. A key lands on target i
 * with probability w_i / sum(w), and when weights change a key moves only if the target it
 * was on lost score relative to another: raising one weight moves keys only onto that
 * target, lowering it only off it (minimal movement). A weight of 0 never wins.
 */
import type { WeightedRouteInput } from '../../config/route-schema.js';
import { hashString, unitHash } from '../hash.js';
import type { Random } from '../random.js';
import type { WeightedSpec } from '../spec.js';
import { TARGET_HEADER, type Target } from '../target.js';
import { listedTargetProblems, ref, type PolicyModule } from './module.js';
import type { Policy } from './policy.js';

/** Weighted routes: a fixed split by weight, optionally sticky by a header. */
export const weightedPolicy: PolicyModule<WeightedSpec> = {
  name: 'weighted',
  normalise(input, common) {
    const w = input as WeightedRouteInput;
    return {
      policy: 'weighted',
      targets: w.targets.map((t) => ({ ...ref(t), weight: t.weight })),
      ...(w.sticky === undefined ? {} : { sticky: { header: w.sticky.header.toLowerCase() } }),
      ...common,
    };
  },
  targets: (spec) => spec.targets,
  check(spec, _raw, target) {
    const problems = listedTargetProblems(spec.targets, target);
    if (spec.targets.every((t) => t.weight === 0)) problems.push('targets: every weight is 0; at least one target needs a weight > 0');
    if (spec.sticky?.header === TARGET_HEADER) problems.push(`sticky.header: ${TARGET_HEADER} pins a target; choose another header to stick by`);
    return problems;
  },
  initialState: () => null,
  build: (ctx) => ({
    picker: new WeightedPolicy(ctx.spec, ctx.targets, ctx.random),
    stickyHeader: ctx.spec.sticky === undefined ? null : ctx.spec.sticky.header,
    arms: null,
    window: null,
    credits: null,
    canaryStep: null,
  }),
  view: () => ({ canary: null, bandit: null }),
  dropCounters: () => [],
};

export class WeightedPolicy implements Policy {
  private readonly weights: Float64Array;
  private readonly cumulative: Float64Array;
  private readonly total: number;
  private readonly seedHi: Uint32Array;
  private readonly seedLo: Uint32Array;

  constructor(
    spec: WeightedSpec,
    targets: readonly Target[],
    private readonly random: Random,
  ) {
    const n = spec.targets.length;
    this.weights = Float64Array.from(spec.targets, (t) => t.weight);
    this.cumulative = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      sum += this.weights[i];
      this.cumulative[i] = sum;
    }
    this.total = sum;
    this.seedHi = Uint32Array.from(targets, (t) => hashString(t.key, 0x5bd1e995));
    this.seedLo = Uint32Array.from(targets, (t) => hashString(t.key, 0x27d4eb2f));
  }

  pick(key: string | null): number {
    return key === null ? this.pickRandom() : this.pickSticky(key);
  }

  private pickRandom(): number {
    const r = this.random() * this.total;
    const last = this.cumulative.length - 1;
    for (let i = 0; i < last; i++) if (r < this.cumulative[i]) return i;
    return last;
  }

  private pickSticky(key: string): number {
    const h = hashString(key);
    let best = 0;
    let bestScore = -1;
    for (let i = 0; i < this.weights.length; i++) {
      const w = this.weights[i];
      if (w <= 0) continue;
      const score = -w / Math.log(unitHash(h, this.seedHi[i], this.seedLo[i]));
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return best;
  }
}
