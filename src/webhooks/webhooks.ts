/**
 * Webhooks: the configured receivers, fed from the diagnostics channels.
 *
 *   switchyard:route:canary      advance → canary.step, promote → canary.promoted,
 *                                rollback → canary.rolled_back (published by the replica that
 *                                made the transition, so a fleet sends each one once)
 *   switchyard:drift:episode     started → drift.detected (each replica watches its own traffic)
 *   switchyard:evaluation:label  windowed accuracy per model version → accuracy.below_threshold
 *   switchyard:route:shadow      windowed disagreement per route and shadow target →
 *                                shadow.disagreement_above_threshold
 *
 * A/B and interleaving verdicts will come the same way: a channel their routes publish on,
 * and one more entry in WEBHOOK_EVENT_TYPES and the source table below.
 *
 * Nothing here runs on the request path: the canary and drift events come from timers, the
 * label events from POST /v2/feedback, the shadow events after a shadow copy finished, and
 * each subscriber does O(webhooks) work before handing the event to the senders' queues.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Registry } from 'prom-client';
import { ConfigError, configIssue, webhookName, type ServerConfig, type WebhookConfig, type WebhookEventType } from '../config/index.js';
import type { Logger } from '../core/index.js';
import { ROUTE_CANARY_CHANNEL, ROUTE_SHADOW_CHANNEL, type CanaryTransitionEvent, type ShadowEvent } from '../routing/index.js';
import { DRIFT_EPISODE_CHANNEL, EVALUATION_LABEL_CHANNEL, type DriftEpisodeEvent, type LabelScoredEvent } from '../telemetry/index.js';
import { newEvent, type CanaryPayload, type PayloadOf } from './event.js';
import { WebhookMetrics } from './metrics.js';
import { WebhookSender } from './sender.js';
import { undiciTransport, type Transport } from './transport.js';
import { Episodes, FlagWindow, RowWindow } from './windows.js';

export interface WebhooksOptions {
  readonly config: ServerConfig;
  /** the registry /metrics serves */
  readonly registry: Registry;
  readonly log: Logger;
  /** where secret_env names are looked up (default process.env) */
  readonly env?: NodeJS.ProcessEnv;
  /** how attempts are sent (default undici; tests may stand in) */
  readonly transport?: Transport;
}

/** One configured webhook: its sender, which events it takes, its own threshold episodes. */
class Hook {
  constructor(
    readonly sender: WebhookSender,
    private readonly events: ReadonlySet<WebhookEventType> | null,
    readonly accuracy: Episodes | null,
    readonly shadow: Episodes | null,
  ) {}

  wants(type: WebhookEventType): boolean {
    return this.events === null || this.events.has(type);
  }
}

const CANARY_TYPES: Partial<Record<CanaryTransitionEvent['event'], WebhookEventType>> = {
  advance: 'canary.step',
  promote: 'canary.promoted',
  rollback: 'canary.rolled_back',
};

export class Webhooks {
  private readonly hooks: readonly Hook[];
  private readonly server: string;
  private readonly closeTimeoutMs: number;
  private readonly minLabels: number;
  private readonly minCompared: number;
  private readonly accuracyWindow: number;
  private readonly shadowWindow: number;
  private readonly accuracy = new Map<string, RowWindow>();
  private readonly disagreement = new Map<string, FlagWindow>();
  private readonly subscriptions: [string, (msg: unknown) => void][] = [];
  private closing: Promise<void> | null = null;

  private constructor(opts: WebhooksOptions, hooks: Hook[]) {
    const s = opts.config.webhook_settings;
    this.hooks = hooks;
    this.server = opts.config.server_name;
    this.closeTimeoutMs = s.close_timeout_s * 1000;
    this.minLabels = s.accuracy_min_labels;
    this.minCompared = s.shadow_min_compared;
    this.accuracyWindow = s.accuracy_window;
    this.shadowWindow = s.shadow_window;
    if (hooks.length === 0) return;
    const wanted = (types: readonly WebhookEventType[]) => hooks.some((h) => types.some((t) => h.wants(t)));
    if (wanted(['canary.step', 'canary.promoted', 'canary.rolled_back'])) this.on(ROUTE_CANARY_CHANNEL, (m) => this.onCanary(m as CanaryTransitionEvent));
    if (wanted(['drift.detected'])) this.on(DRIFT_EPISODE_CHANNEL, (m) => this.onDrift(m as DriftEpisodeEvent));
    if (hooks.some((h) => h.accuracy !== null)) this.on(EVALUATION_LABEL_CHANNEL, (m) => this.onLabel(m as LabelScoredEvent));
    if (hooks.some((h) => h.shadow !== null)) this.on(ROUTE_SHADOW_CHANNEL, (m) => this.onShadow(m as ShadowEvent));
  }

  /**
   * Builds the senders of `config.webhooks` and subscribes to the channels their events come
   * from. Throws a ConfigError when a secret_env variable is unset or empty.
   */
  static create(opts: WebhooksOptions): Webhooks {
    const c = opts.config;
    const env = opts.env ?? process.env;
    const senders: WebhookSender[] = [];
    const metrics = new WebhookMetrics(opts.registry, () => senders.map((s) => [s.name, s.depth] as const));
    const hooks = c.webhooks.map((w, i) => {
      const name = webhookName(w);
      const secret = secretOf(w, i, env);
      if (secret === null) opts.log.warn('webhook: no secret or secret_env; its deliveries are not signed', { webhook: name });
      const sender = new WebhookSender({
        name,
        url: w.url,
        secret,
        timeoutMs: w.timeout_ms,
        maxRetries: w.max_retries,
        backoff: { initialMs: w.retry_initial_ms, maxMs: w.retry_max_ms },
        queueSize: w.queue_size,
        metrics,
        log: opts.log,
        transport: opts.transport ?? undiciTransport,
      });
      senders.push(sender);
      const events = w.events === null ? null : new Set<WebhookEventType>(w.events);
      const has = (t: WebhookEventType) => events === null || events.has(t);
      const accuracyBelow = w.online_accuracy_below ?? c.webhook_settings.online_accuracy_below;
      const disagreementAbove = w.shadow_disagreement_above ?? c.webhook_settings.shadow_disagreement_above;
      return new Hook(
        sender,
        events,
        accuracyBelow !== null && has('accuracy.below_threshold') ? new Episodes(accuracyBelow, 'below') : null,
        disagreementAbove !== null && has('shadow.disagreement_above_threshold') ? new Episodes(disagreementAbove, 'above') : null,
      );
    });
    return new Webhooks(opts, hooks);
  }

  /** The configured webhooks' names (logs, doctor). */
  get names(): string[] {
    return this.hooks.map((h) => h.sender.name);
  }

  /**
   * Stops listening, then goes on delivering what is queued for up to
   * webhook_settings.close_timeout_s; what is left then is dropped and counted. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const [name, fn] of this.subscriptions) unsubscribe(name, fn);
      const deadline = Date.now() + this.closeTimeoutMs;
      await Promise.all(this.hooks.map((h) => h.sender.close(deadline)));
    })();
    return this.closing;
  }

  private on(name: string, fn: (msg: unknown) => void): void {
    subscribe(name, fn);
    this.subscriptions.push([name, fn]);
  }

  /** Sends an event of `type` to every webhook that takes it (or to `only`). */
  private emit<T extends WebhookEventType>(type: T, payload: PayloadOf<T>, only: Hook | null = null, at: number = Date.now()): void {
    const event = newEvent(type, payload, this.server, at);
    for (const h of this.hooks) if ((only === null || h === only) && h.wants(type)) h.sender.offer(event);
  }

  private onCanary(e: CanaryTransitionEvent): void {
    const type = CANARY_TYPES[e.event];
    if (type === undefined) return;
    const payload: CanaryPayload = {
      route: e.route,
      transition: e.event as CanaryPayload['transition'],
      status: e.status,
      step: e.step,
      percent: e.percent,
      reason: e.reason,
      actor: e.actor,
      baseline: e.baseline,
      candidate: e.candidate,
      analysis: e.analysis,
      gate: e.gate,
    };
    this.emit(type, payload, null, e.at);
  }

  private onDrift(e: DriftEpisodeEvent): void {
    if (e.state !== 'started') return;
    this.emit('drift.detected', {
      model: e.model,
      version: e.version,
      column: e.column,
      psi: e.psi,
      ks: e.ks,
      psi_threshold: e.psiThreshold,
      ks_threshold: e.ksThreshold,
      window: e.window,
    });
  }

  private onLabel(e: LabelScoredEvent): void {
    if (e.task !== 'classification') return;
    const key = `${e.model}\u0000${e.version}`;
    let w = this.accuracy.get(key);
    if (w === undefined) {
      w = new RowWindow(this.accuracyWindow);
      this.accuracy.set(key, w);
    }
    w.add(e.rows, e.correct);
    const accuracy = w.rows >= this.minLabels ? w.accuracy : null;
    for (const h of this.hooks) {
      if (h.accuracy === null || !h.accuracy.update(key, accuracy) || accuracy === null) continue;
      this.emit('accuracy.below_threshold', { model: e.model, version: e.version, accuracy: round(accuracy), threshold: h.accuracy.threshold, rows: w.rows, correct: w.correct }, h);
    }
  }

  private onShadow(e: ShadowEvent): void {
    // only copies whose outputs could be compared by class say anything about disagreement
    if (e.outcome !== 'compared' || (e.agree === null && !e.mismatch)) return;
    const key = `${e.route}\u0000${e.target}`;
    let w = this.disagreement.get(key);
    if (w === undefined) {
      w = new FlagWindow(this.shadowWindow);
      this.disagreement.set(key, w);
    }
    w.add(e.mismatch || e.agree === false);
    const fraction = w.count >= this.minCompared ? w.fraction : null;
    for (const h of this.hooks) {
      if (h.shadow === null || !h.shadow.update(key, fraction) || fraction === null) continue;
      this.emit('shadow.disagreement_above_threshold', { route: e.route, target: e.target, disagreement: round(fraction), threshold: h.shadow.threshold, compared: w.count, disagreed: w.flagged }, h);
    }
  }
}

/** The signing secret of webhook `i`: secret, the secret_env variable's value, or null. */
function secretOf(w: WebhookConfig, i: number, env: NodeJS.ProcessEnv): string | null {
  if (w.secret !== null) return w.secret;
  if (w.secret_env === null) return null;
  const value = env[w.secret_env];
  if (value === undefined || value === '') {
    const key = `webhooks[${i}].secret_env`;
    throw new ConfigError([
      configIssue({ source: 'the webhook config', path: key, value: w.secret_env, expected: `the name of a set, non-empty environment variable (set ${w.secret_env} to the signing secret, or remove secret_env to send unsigned)` }),
    ]);
  }
  return value;
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;
