export { analyseStep, summarise, type SideSummary, type StepSummary } from './analysis.js';
export { CanaryScheduler } from './scheduler.js';
export {
  CANARY_ACTOR,
  MAX_HISTORY,
  actionProblem,
  afterAction,
  afterAnalysis,
  candidatePercent,
  carryCanaryState,
  startCanary,
  type CanaryAction,
  type CanaryEvent,
  type CanaryEventKind,
  type CanaryGate,
  type CanaryState,
  type CanaryStatus,
  type Verdict,
} from './state.js';
export { stepWindow, recordInWindow, rewardPrefix, sideStats, windowKey, type Side, type SideStats } from './window.js';
