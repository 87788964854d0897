/**
 * Which shadow targets mirror one request: each with its percent, never the target that
 * serves the request. The chosen subsets are memoised by bitmask (at most 8 shadows, so 256
 * frozen lists), so choosing allocates nothing after warm-up.
 */
import type { Random } from '../random.js';
import type { ShadowSpec } from '../spec.js';
import type { Target } from '../target.js';

export const NO_SHADOWS: readonly Target[] = Object.freeze([]);

export class ShadowSelector {
  private readonly percents: Float64Array;
  private readonly memo: (readonly Target[] | undefined)[];

  constructor(
    specs: readonly ShadowSpec[],
    private readonly targets: readonly Target[],
    private readonly random: Random,
  ) {
    this.percents = Float64Array.from(specs, (s) => s.percent);
    this.memo = new Array<readonly Target[] | undefined>(1 << targets.length).fill(undefined);
  }

  pick(primary: Target): readonly Target[] {
    let mask = 0;
    for (let i = 0; i < this.targets.length; i++) {
      if (this.targets[i].key === primary.key) continue;
      const p = this.percents[i];
      if (p >= 100 || (p > 0 && this.random() * 100 < p)) mask |= 1 << i;
    }
    if (mask === 0) return NO_SHADOWS;
    const known = this.memo[mask];
    if (known !== undefined) return known;
    const list = Object.freeze(this.targets.filter((_, i) => (mask & (1 << i)) !== 0));
    this.memo[mask] = list;
    return list;
  }
}
