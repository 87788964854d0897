/**
 * Canary assignment: the candidate (index 1) gets its step's percent of the requests at
 * random, the baseline (index 0) the rest; 100% once promoted, 0% once rolled back. The
 * route sets the percent whenever the canary state changes.
 */
import type { Random } from '../random.js';
import type { Policy } from './policy.js';

export const BASELINE = 0;
export const CANDIDATE = 1;

export class CanaryPolicy implements Policy {
  private percent: number;

  constructor(
    percent: number,
    private readonly random: Random,
  ) {
    this.percent = percent;
  }

  setPercent(percent: number): void {
    this.percent = percent;
  }

  pick(): number {
    if (this.percent <= 0) return BASELINE;
    if (this.percent >= 100) return CANDIDATE;
    return this.random() * 100 < this.percent ? CANDIDATE : BASELINE;
  }
}
