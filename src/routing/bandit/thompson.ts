/**
 * Thompson sampling: draw a plausible mean for each arm from its posterior and take the
 * largest.
 *   bernoulli  Beta(1 + successes, 1 + failures)
 *   gaussian   Normal-Inverse-Gamma posterior of (mean, variance), with a weak prior centred
 *              on the pooled rewards of all arms (one pseudo-observation, variance the pooled
 *              variance), so the reward's scale does not matter
 */
import { sampleBeta, sampleGamma, sampleNormal, type Random } from '../random.js';
import type { BanditAlgorithm } from './algorithm.js';
import type { ArmTable } from './arms.js';

export class ThompsonSampling implements BanditAlgorithm {
  choose(arms: ArmTable, random: Random): number {
    return arms.reward === 'bernoulli' ? chooseBernoulli(arms, random) : chooseGaussian(arms, random);
  }
}

function chooseBernoulli(arms: ArmTable, random: Random): number {
  let best = 0;
  let bestDraw = -Infinity;
  for (let i = 0; i < arms.count; i++) {
    const n = arms.rewards(i);
    const s = Math.min(Math.max(arms.sum(i), 0), n);
    const draw = sampleBeta(random, 1 + s, 1 + n - s);
    if (draw > bestDraw) {
      bestDraw = draw;
      best = i;
    }
  }
  return best;
}

function chooseGaussian(arms: ArmTable, random: Random): number {
  const prior = arms.pooled();
  let best = 0;
  let bestDraw = -Infinity;
  for (let i = 0; i < arms.count; i++) {
    const n = arms.rewards(i);
    const mean = n > 0 ? arms.sum(i) / n : prior.mean;
    const ss = n > 0 ? Math.max(arms.sumsq(i) - (arms.sum(i) * arms.sum(i)) / n, 0) : 0;
    const kappa = 1 + n;
    const mu = (prior.mean + n * mean) / kappa;
    const alpha = 2 + n / 2;
    const beta = prior.variance + ss / 2 + (n * (mean - prior.mean) ** 2) / (2 * kappa);
    const variance = beta / sampleGamma(random, alpha);
    const draw = mu + Math.sqrt(variance / kappa) * sampleNormal(random);
    if (draw > bestDraw) {
      bestDraw = draw;
      best = i;
    }
  }
  return best;
}
