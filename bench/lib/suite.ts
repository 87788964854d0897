/** What the suite compares and aims at: shared by run.ts and rereport.ts. */
import type { Comparison } from './report.js';

/** The compute-bound example model. */
export const HEAVY = 'heavy';

/** The compute ceiling is not a server under load: it has its own case id and runs first in each round. */
export const RAW_ORT = 'raw-ort';

/**
 * Features measured as the same load with the feature on and off, and switchyard against the
 * peers (issue 13: ≥ 2× the uWS peer, ≥ 5× it on heavy; P11: ≥ 10× MLServer and KServe at
 * concurrency 64 with a lower p99).
 */
export const COMPARISONS: readonly Comparison[] = [
  { title: 'switchyard REST vs the per-request peer', with: 'batching-on', without: 'peer', aim: 5, aimLowerP99: true },
  { title: 'heavy model: switchyard vs the per-request peer', with: 'heavy', without: 'heavy-peer' },
  { title: 'switchyard REST vs the uWS inline peer', with: 'batching-on', without: 'peer-uws', aim: 2 },
  { title: 'heavy model: switchyard vs the uWS inline peer', with: 'heavy', without: 'heavy-peer-uws', aim: 5 },
  { title: 'switchyard REST vs MLServer', with: 'batching-on', without: 'mlserver', aim: 10, aimLowerP99: true, aimAt: 64 },
  { title: 'switchyard REST vs KServe', with: 'batching-on', without: 'kserve', aim: 10, aimLowerP99: true, aimAt: 64 },
  { title: 'monitoring (request log, label join, drift)', with: 'batching-on', without: 'monitoring-off', aim: 0.9 },
  { title: 'shadow (100% mirrored to v2)', with: 'shadow-on', without: 'shadow-off' },
  { title: 'features from Redis (by customer id)', with: 'features-redis', without: 'features-direct' },
];

/** switchyard on the heavy model ÷ raw ORT's best rows/s at concurrency 256. */
export const COMPUTE_AIM = { caseId: 'heavy', aim: 0.8 };

