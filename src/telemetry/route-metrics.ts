/**
 * Prometheus metrics of routes, fed by the diagnostics channels routing publishes on (so
 * routing never imports prom-client). Labels are bounded: route names, targets as
 * `model:version`, outcomes; never request ids.
 *
 *   switchyard_route_requests_total{route,target,status}        requests served through a route (status ok | error)
 *   switchyard_route_shadow_requests_total{route,target,outcome} shadow copies: compared | failed | dropped
 *   switchyard_route_shadow_argmax_total{route,target,result}   compared copies with classifier outputs: agree | disagree
 *   switchyard_route_shadow_mismatch_total{route,target}        compared copies whose outputs differ in name, datatype or shape
 *   switchyard_route_shadow_max_abs_diff{route,target}          histogram of the largest absolute output difference
 *   switchyard_route_feedback_total{route,outcome}              feedback calls: credited | duplicate | unknown
 *   switchyard_route_arm_pulls / _arm_rewards / _arm_reward_sum / _arm_reward_mean {route,target}   bandit arms (gauges)
 *   switchyard_route_canary_step{route}, switchyard_route_canary_candidate_percent{route},
 *   switchyard_route_canary_state{route,state} (1 for the current state)                           canaries (gauges)
 *   switchyard_route_canary_transitions_total{route,event}      advance | extend | promote | rollback | pause | resume | start
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  ROUTE_CANARY_CHANNEL,
  ROUTE_FEEDBACK_CHANNEL,
  ROUTE_REQUEST_CHANNEL,
  ROUTE_SHADOW_CHANNEL,
  ROUTE_STATS_CHANNEL,
  type CanaryTransitionEvent,
  type Decision,
  type FeedbackEvent,
  type RouteStatsEvent,
  type ShadowEvent,
} from '../routing/index.js';
import { FastCounter, FastHistogram } from './fast-metrics/index.js';

const DIFF_BUCKETS = [0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100];
const CANARY_STATES = ['progressing', 'paused', 'promoted', 'rolled_back'] as const;

export class RouteMetrics {
  private readonly unsubscribers: (() => void)[] = [];

  constructor(registry: Registry) {
    const registers = [registry];
    // per routed request or shadow copy: FastCounter/FastHistogram series() (see fast-metrics/)
    const requests = new FastCounter({
      name: 'switchyard_route_requests_total',
      help: 'Requests served through a route, by route, target (model:version) and status (ok or error)',
      labelNames: ['route', 'target', 'status'],
      registers,
    });
    const shadows = new FastCounter({
      name: 'switchyard_route_shadow_requests_total',
      help: 'Shadow copies of routed requests, by outcome: compared (sent and answered), failed (sent, the shadow failed), dropped (not sent: under load)',
      labelNames: ['route', 'target', 'outcome'],
      registers,
    });
    const argmax = new FastCounter({
      name: 'switchyard_route_shadow_argmax_total',
      help: 'Compared shadow copies with classifier-like outputs, by whether every row had the same argmax as the primary (agree) or not (disagree)',
      labelNames: ['route', 'target', 'result'],
      registers,
    });
    const mismatch = new FastCounter({
      name: 'switchyard_route_shadow_mismatch_total',
      help: 'Compared shadow copies whose outputs differ from the primary in name, datatype or shape',
      labelNames: ['route', 'target'],
      registers,
    });
    const diff = new FastHistogram({
      name: 'switchyard_route_shadow_max_abs_diff',
      help: 'Largest absolute difference between an output element of a shadow and of its primary, per compared copy',
      labelNames: ['route', 'target'],
      buckets: DIFF_BUCKETS,
      registers,
    });
    const feedback = new Counter({
      name: 'switchyard_route_feedback_total',
      help: 'Feedback calls by outcome: credited, duplicate (credited before), unknown (no such request awaiting feedback; route "")',
      labelNames: ['route', 'outcome'],
      registers,
    });
    const transitions = new Counter({
      name: 'switchyard_route_canary_transitions_total',
      help: 'Canary transitions made by this replica, by event (start, advance, extend, promote, rollback, pause, resume)',
      labelNames: ['route', 'event'],
      registers,
    });
    const gauge = (name: string, help: string, labelNames: string[]) => new Gauge({ name, help, labelNames, registers });
    const pulls = gauge('switchyard_route_arm_pulls', 'Requests sent to each bandit arm (all replicas)', ['route', 'target']);
    const rewards = gauge('switchyard_route_arm_rewards', 'Rewards credited to each bandit arm (all replicas)', ['route', 'target']);
    const rewardSum = gauge('switchyard_route_arm_reward_sum', 'Sum of the rewards credited to each bandit arm', ['route', 'target']);
    const rewardMean = gauge('switchyard_route_arm_reward_mean', 'Mean reward of each bandit arm (absent until it has one)', ['route', 'target']);
    const step = gauge('switchyard_route_canary_step', 'Index of the current step of each canary route', ['route']);
    const percent = gauge('switchyard_route_canary_candidate_percent', "Candidate's share of a canary route's traffic, in percent", ['route']);
    const state = gauge('switchyard_route_canary_state', 'State of each canary route: 1 for the current one of progressing, paused, promoted, rolled_back', ['route', 'state']);

    this.on(ROUTE_REQUEST_CHANNEL, (d: Decision) => requests.series(d.route, d.target.key, d.ok === false ? 'error' : 'ok').inc());
    this.on(ROUTE_SHADOW_CHANNEL, (e: ShadowEvent) => {
      shadows.series(e.route, e.target, e.outcome).inc();
      if (e.outcome !== 'compared') return;
      if (e.mismatch) mismatch.series(e.route, e.target).inc();
      else if (e.maxAbsDiff !== null) diff.series(e.route, e.target).observe(e.maxAbsDiff);
      if (e.agree !== null && !e.mismatch) argmax.series(e.route, e.target, e.agree ? 'agree' : 'disagree').inc();
    });
    this.on(ROUTE_FEEDBACK_CHANNEL, (e: FeedbackEvent) => feedback.inc({ route: e.route, outcome: e.outcome }));
    this.on(ROUTE_CANARY_CHANNEL, (e: CanaryTransitionEvent) => transitions.inc({ route: e.route, event: e.event }));
    this.on(ROUTE_STATS_CHANNEL, (e: RouteStatsEvent) => {
      for (const g of [pulls, rewards, rewardSum, rewardMean, step, percent, state]) g.reset();
      for (const r of e.routes) {
        for (const a of r.arms ?? []) {
          const labels = { route: r.route, target: a.target };
          pulls.set(labels, a.pulls);
          rewards.set(labels, a.rewards);
          rewardSum.set(labels, a.rewardSum);
          if (a.rewardMean !== null) rewardMean.set(labels, a.rewardMean);
        }
        if (r.canary !== null) {
          step.set({ route: r.route }, r.canary.step);
          percent.set({ route: r.route }, r.canary.percent);
          for (const s of CANARY_STATES) state.set({ route: r.route, state: s }, s === r.canary.status ? 1 : 0);
        }
      }
    });
  }

  private on<T>(name: string, fn: (msg: T) => void): void {
    const handler = (msg: unknown): void => fn(msg as T);
    subscribe(name, handler);
    this.unsubscribers.push(() => unsubscribe(name, handler));
  }

  /** Unsubscribes from the channels. */
  close(): void {
    for (const u of this.unsubscribers.splice(0)) u();
  }
}
