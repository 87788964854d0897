/**
 * Weighted assignment. Without a key: at random in proportion to the weights. With a key
 * (sticky): weighted rendezvous hashing. Each target i scores -w_i / ln(u_i(key)), u_i a
 * hash of (key, target) uniform in (0, 1); the highest score wins. A key lands on target i
 * with probability w_i / sum(w), and when weights change a key moves only if the target it
 * was on lost score relative to another: raising one weight moves keys only onto that
 * target, lowering it only off it (minimal movement). A weight of 0 never wins.
 */
import { hashString, unitHash } from '../hash.js';
import type { Random } from '../random.js';
import type { WeightedSpec } from '../spec.js';
import type { Target } from '../target.js';
import type { Policy } from './policy.js';

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
