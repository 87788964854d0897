export type { Policy } from './policy.js';
export { WeightedPolicy } from './weighted.js';
export { CanaryPolicy, BASELINE, CANDIDATE } from './canary.js';
export { BanditPolicy } from './bandit.js';
