import type { Registry } from 'prom-client';
import type { Logger } from '../../src/core/index.js';
import type { RequestLogSink } from '../../src/telemetry/request-log/index.js';

export interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const add = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  return { lines, debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error'), isLevelEnabled: () => true };
}

/** A sink that stores every line it is given, as parsed JSON. */
export class MemorySink implements RequestLogSink {
  readonly lines: string[] = [];
  writes = 0;
  closed = false;
  constructor(readonly name = 'memory') {}
  async write(lines: readonly string[]): Promise<number> {
    this.writes++;
    this.lines.push(...lines);
    return 0;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  records(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

/** A sink whose writes throw synchronously (`mode: 'throw'`) or reject (`'reject'`). */
export class FailingSink implements RequestLogSink {
  calls = 0;
  constructor(
    readonly name: string,
    private readonly mode: 'throw' | 'reject',
  ) {}
  write(): Promise<number> {
    this.calls++;
    if (this.mode === 'throw') throw new Error('disk on fire');
    return Promise.reject(new Error('connection refused'));
  }
  async close(): Promise<void> {}
}

/** A sink whose writes never settle (until release()). */
export class StalledSink implements RequestLogSink {
  calls = 0;
  private pending: (() => void)[] = [];
  constructor(readonly name = 'stalled') {}
  write(): Promise<number> {
    this.calls++;
    return new Promise((resolve) => this.pending.push(() => resolve(0)));
  }
  release(): void {
    for (const p of this.pending.splice(0)) p();
  }
  async close(): Promise<void> {}
}

/** The value of one series of a metric in `registry` (0 when absent). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const data = await metric.get();
  let total = 0;
  let found = false;
  for (const v of data.values) {
    if (Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want)) {
      total += v.value;
      found = true;
    }
  }
  return found ? total : 0;
}

/** Resolves after the event loop ran `n` more turns (setImmediate). */
export async function ticks(n = 2): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Waits until `cond()` is true (polling), failing after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Names of the metric families a PromQL text uses (`switchyard_*`, histogram suffixes removed when `histograms` has the base). */
export function queriedMetricNames(exprs: readonly string[], histograms: ReadonlySet<string> = new Set()): string[] {
  const names = new Set<string>();
  for (const expr of exprs) {
    for (const [name] of expr.matchAll(/\bswitchyard_[a-z0-9_]+/g)) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      names.add(base !== name && histograms.has(base) ? base : name);
    }
  }
  return [...names].sort();
}

/** Every `expr` in a Grafana dashboard JSON (panels, rows' panels and template variables). */
export function dashboardExprs(dashboard: unknown): string[] {
  const out: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if ((key === 'expr' || key === 'definition') && typeof value === 'string') out.push(value);
        else visit(value);
      }
    }
  };
  visit(dashboard);
  return out;
}
