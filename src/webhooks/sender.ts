/**
 * The delivery of events to one webhook URL: a bounded FIFO queue (an event that does not
 * fit is dropped and counted; offer() never waits, so no publisher is ever held up) and one
 * delivery at a time, in order. An attempt that fails with a network error, a timeout, a
 * 5xx or a 429 is retried after a backoff (or the receiver's Retry-After) up to
 * max_retries times; any other status below 200 or from 300 up is final ("rejected").
 *
 * Ownership: offer() takes the event; the sender serialises it once and keeps it until it
 * is delivered, given up or dropped at close.
 */
import { FixedQueue, type Logger } from '../core/index.js';
import { SERVER_VERSION } from '../protocol/index.js';
import { retryDelay, parseRetryAfter, type BackoffOptions } from './backoff.js';
import type { WebhookEvent } from './event.js';
import type { DeliveryOutcome, WebhookMetrics } from './metrics.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signatureOf } from './sign.js';
import type { Transport } from './transport.js';

export interface SenderOptions {
  /** the label in metrics and logs */
  readonly name: string;
  readonly url: string;
  /** null: deliveries are not signed */
  readonly secret: string | null;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoff: BackoffOptions;
  readonly queueSize: number;
  readonly metrics: WebhookMetrics;
  readonly log: Logger;
  readonly transport: Transport;
  /** [0, 1) for the jitter (tests seed it) */
  readonly random?: () => number;
  readonly now?: () => number;
}

/** How long close() waits for the attempt in flight to end once aborted. */
const ABORT_GRACE_MS = 1000;

class Pending {
  readonly event: WebhookEvent;
  readonly body: string;
  readonly queuedAt: number;
  constructor(event: WebhookEvent, queuedAt: number) {
    this.event = event;
    this.body = JSON.stringify(event);
    this.queuedAt = queuedAt;
  }
}

/** How one attempt ended. */
type Attempt = { readonly kind: 'ok' } | { readonly kind: 'final'; readonly status: number } | { readonly kind: 'retry'; readonly retryAfterMs: number | null; readonly why: string };

export class WebhookSender {
  readonly name: string;
  private readonly o: SenderOptions;
  private readonly queue = new FixedQueue<Pending>();
  private readonly abort = new AbortController();
  private readonly random: () => number;
  private readonly now: () => number;
  private running: Promise<void> | null = null;
  private accepting = true;
  private lastFailureLog = 0;

  constructor(o: SenderOptions) {
    this.o = o;
    this.name = o.name;
    this.random = o.random ?? Math.random;
    this.now = o.now ?? Date.now;
  }

  /** Events waiting, the one being delivered included. */
  get depth(): number {
    return this.queue.length;
  }

  /** Queues `event`; false (dropped and counted) when the queue is full or the sender is closing. Never waits. */
  offer(event: WebhookEvent): boolean {
    const m = this.o.metrics;
    if (!this.accepting) {
      m.dropped.inc({ webhook: this.name, reason: 'shutdown' });
      return false;
    }
    if (this.queue.length >= this.o.queueSize) {
      m.dropped.inc({ webhook: this.name, reason: 'queue_full' });
      return false;
    }
    this.queue.push(new Pending(event, this.now()));
    m.events.inc({ webhook: this.name, type: event.type });
    this.running ??= this.drain();
    return true;
  }

  /**
   * Stops taking events and goes on delivering the queued ones until `deadlineMs` (a
   * Date.now() time); then aborts the attempt in flight and drops what is left (counted as
   * shutdown). Resolves when nothing is left.
   */
  async close(deadlineMs: number): Promise<void> {
    this.accepting = false;
    const running = this.running;
    if (running === null) return;
    const wait = deadlineMs - Date.now();
    let timer: NodeJS.Timeout | null = null;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, wait));
    });
    await Promise.race([running, expired]);
    if (timer !== null) clearTimeout(timer);
    this.abort.abort();
    // the attempt in flight ends with the abort; a transport that ignored it must not hold the shutdown up
    await Promise.race([running, new Promise((resolve) => setTimeout(resolve, ABORT_GRACE_MS).unref())]);
  }

  private async drain(): Promise<void> {
    try {
      for (let p = this.queue.peek(); p !== undefined; p = this.queue.peek()) {
        if (this.abort.signal.aborted || !(await this.deliver(p))) break;
        this.queue.shift();
      }
    } finally {
      const left = this.queue.length;
      if (left > 0) {
        this.queue.clear();
        this.o.metrics.dropped.inc({ webhook: this.name, reason: 'shutdown' }, left);
        this.o.log.warn('webhook: events left undelivered at shutdown (webhook_settings.close_timeout_s ran out)', { webhook: this.name, events: left });
      }
      this.running = null;
    }
  }

  /** Attempts `p` until it is delivered, rejected or out of retries (true), or the sender is aborted (false: it stays queued). */
  private async deliver(p: Pending): Promise<boolean> {
    const o = this.o;
    const m = o.metrics;
    for (let retry = 0; ; retry++) {
      if (retry > 0) m.retries.inc({ webhook: this.name });
      const a = await this.attempt(p);
      if (this.abort.signal.aborted && a.kind === 'retry') return false;
      if (a.kind === 'ok') return this.settle(p, 'delivered');
      if (a.kind === 'final') {
        this.logFailure('webhook: the receiver refused an event (not retried: fix the receiver or the webhook config)', { webhook: this.name, event: p.event.type, id: p.event.id, status: a.status });
        return this.settle(p, 'rejected');
      }
      if (retry >= o.maxRetries) {
        this.logFailure('webhook: an event could not be delivered; retries exhausted', { webhook: this.name, event: p.event.type, id: p.event.id, attempts: retry + 1, last: a.why });
        return this.settle(p, 'failed');
      }
      const delay = retryDelay(retry + 1, a.retryAfterMs, o.backoff, this.random);
      if (!(await this.sleep(delay))) return false;
    }
  }

  private settle(p: Pending, outcome: DeliveryOutcome): true {
    const m = this.o.metrics;
    m.deliveries.inc({ webhook: this.name, outcome });
    m.latency.observe({ webhook: this.name, outcome }, Math.max(0, this.now() - p.queuedAt) / 1000);
    return true;
  }

  private async attempt(p: Pending): Promise<Attempt> {
    const o = this.o;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': `switchyard/${SERVER_VERSION}`,
      'x-switchyard-event': p.event.type,
      'x-switchyard-event-id': p.event.id,
    };
    if (o.secret !== null) {
      const ts = Math.floor(this.now() / 1000);
      headers[TIMESTAMP_HEADER] = String(ts);
      headers[SIGNATURE_HEADER] = signatureOf(o.secret, ts, p.body);
    }
    try {
      const res = await o.transport(o.url, headers, p.body, o.timeoutMs, this.abort.signal);
      if (res.status >= 200 && res.status < 300) return { kind: 'ok' };
      if (res.status === 429 || res.status >= 500) return { kind: 'retry', retryAfterMs: parseRetryAfter(res.retryAfter, this.now()), why: `HTTP ${res.status}` };
      return { kind: 'final', status: res.status };
    } catch (e) {
      return { kind: 'retry', retryAfterMs: null, why: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    }
  }

  /** Waits `ms`; false when the sender was aborted meanwhile. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Failures are logged at most every 10 s per webhook (a dead receiver must not flood the log); the metrics count each. */
  private logFailure(msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.lastFailureLog < 10_000) return;
    this.lastFailureLog = now;
    this.o.log.warn(msg, fields);
  }
}
