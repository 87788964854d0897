import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Seconds from queued to delivered (or given up): 100 µs up to 10 minutes (retries wait long). */
const DELIVERY_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** How an event's delivery to one webhook ended. */
export type DeliveryOutcome = 'delivered' | 'rejected' | 'failed';
/** Why an event was not delivered at all. */
export type DropReason = 'queue_full' | 'shutdown';

/**
 * Webhook delivery metrics (label `webhook`: its configured name, bounded by the config):
 *   switchyard_webhook_events_total{webhook,type}        events queued for delivery
 *   switchyard_webhook_deliveries_total{webhook,outcome} delivered (2xx), rejected (a 4xx other
 *                                                        than 429: not retried), failed (retries exhausted)
 *   switchyard_webhook_retries_total{webhook}            attempts after an event's first
 *   switchyard_webhook_dropped_total{webhook,reason}     never attempted to the end: queue_full, shutdown
 *   switchyard_webhook_queue_depth{webhook}              events waiting (the one being delivered included)
 *   switchyard_webhook_delivery_seconds{webhook,outcome} queued → delivered or given up
 */
export class WebhookMetrics {
  readonly events: Counter<'webhook' | 'type'>;
  readonly deliveries: Counter<'webhook' | 'outcome'>;
  readonly retries: Counter<'webhook'>;
  readonly dropped: Counter<'webhook' | 'reason'>;
  readonly latency: Histogram<'webhook' | 'outcome'>;
  private readonly depth: Gauge<'webhook'>;

  constructor(registry: Registry, depths: () => Iterable<readonly [string, number]>) {
    const registers = [registry];
    this.events = new Counter({ name: 'switchyard_webhook_events_total', help: 'Webhook events queued for delivery, by webhook and event type', labelNames: ['webhook', 'type'], registers });
    this.deliveries = new Counter({
      name: 'switchyard_webhook_deliveries_total',
      help: 'Webhook deliveries by outcome: delivered (2xx), rejected (4xx other than 429, not retried), failed (retries exhausted)',
      labelNames: ['webhook', 'outcome'],
      registers,
    });
    this.retries = new Counter({ name: 'switchyard_webhook_retries_total', help: 'Webhook delivery attempts after the first (network error, 5xx or 429)', labelNames: ['webhook'], registers });
    this.dropped = new Counter({ name: 'switchyard_webhook_dropped_total', help: 'Webhook events dropped: queue_full (the queue was at queue_size) or shutdown (close_timeout_s ran out)', labelNames: ['webhook', 'reason'], registers });
    this.latency = new Histogram({
      name: 'switchyard_webhook_delivery_seconds',
      help: 'Seconds from an event being queued to its delivery or its last failed attempt',
      labelNames: ['webhook', 'outcome'],
      buckets: DELIVERY_BUCKETS,
      registers,
    });
    this.depth = new Gauge({
      name: 'switchyard_webhook_queue_depth',
      help: 'Webhook events waiting for delivery (the one being delivered included)',
      labelNames: ['webhook'],
      registers,
      collect() {
        for (const [webhook, n] of depths()) this.set({ webhook }, n);
      },
    });
  }
}
