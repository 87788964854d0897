import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { normaliseServerConfig, validateServerConfig, type ServerConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/core/index.js';
import { Webhooks, type Transport, type WebhookEvent } from '../../src/webhooks/index.js';

/** A server config with these webhooks and settings (everything else default). */
export function configWith(webhooks: Record<string, unknown>[], settings: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): ServerConfig {
  const n = normaliseServerConfig({ webhooks, webhook_settings: settings, ...extra }, '/tmp', {});
  return validateServerConfig(n.value, 'test.yaml');
}

export interface Received {
  readonly headers: IncomingHttpHeaders;
  /** the raw body as received */
  readonly body: string;
  /** the status the receiver answered */
  readonly status: number;
}

/** What a receiver answers to the n-th request (0-based): a status and headers. */
export type Answer = (n: number) => { status: number; headers?: Record<string, string> };

/** A real HTTP receiver on an ephemeral port that records every request. */
export class Receiver {
  readonly requests: Received[] = [];
  private readonly server: Server;
  private answer: Answer;

  private constructor(answer: Answer) {
    this.answer = answer;
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const a = this.answer(this.requests.length);
        this.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status: a.status });
        res.writeHead(a.status, a.headers ?? {});
        res.end('{}');
      });
    });
  }

  static async start(answer: Answer = () => ({ status: 200 })): Promise<Receiver> {
    const r = new Receiver(answer);
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** The events of the requests answered 2xx. */
  delivered(): WebhookEvent[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300).map((r) => JSON.parse(r.body) as WebhookEvent);
  }

  async until(check: (r: Receiver) => boolean, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!check(this)) {
      if (Date.now() > end) throw new Error(`receiver: timed out; got ${this.requests.length} requests`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Webhooks over a private registry (closed by the caller). */
export function webhooks(config: ServerConfig, opts: { transport?: Transport; env?: NodeJS.ProcessEnv } = {}): { hooks: Webhooks; registry: Registry } {
  const registry = new Registry();
  return { hooks: Webhooks.create({ config, registry, log: silentLogger, ...opts }), registry };
}

/** A metric's value by labels (0 when absent). */
export async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  // a histogram's _count and _sum are values of the histogram itself
  const base = name.replace(/_(count|sum)$/, '');
  const m = await (registry.getSingleMetric(name) ?? registry.getSingleMetric(base))?.get();
  const v = m?.values.find((x) => ((x as { metricName?: string }).metricName ?? name) === name && Object.entries(labels).every(([k, val]) => String(x.labels[k]) === val));
  return v?.value ?? 0;
}
