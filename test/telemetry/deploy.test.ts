import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/index.js';
import { DriftMetrics } from '../../src/telemetry/drift/index.js';
import { EvaluationMetrics } from '../../src/telemetry/evaluation/index.js';
import { Metrics } from '../../src/telemetry/index.js';
import { RequestLogMetrics } from '../../src/telemetry/request-log/index.js';
import { dashboardExprs, queriedMetricNames } from './helpers.js';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const at = (...p: string[]) => path.join(DEPLOY, ...p);
const promtool = (...args: string[]) => execFileSync('promtool', args, { cwd: at('prometheus'), encoding: 'utf8', stdio: 'pipe' });

/** Every metric family the gateway and the monitoring modules export, and which are histograms. */
async function exported(): Promise<{ names: Set<string>; histograms: Set<string> }> {
  const metrics = new Metrics(() => []);
  try {
    new RequestLogMetrics(metrics.registry);
    new EvaluationMetrics(metrics.registry);
    new DriftMetrics(metrics.registry);
    const all = await metrics.registry.getMetricsAsJSON();
    return { names: new Set(all.map((m) => m.name)), histograms: new Set(all.filter((m) => String(m.type) === 'histogram').map((m) => m.name)) };
  } finally {
    metrics.close();
  }
}

function alertExprs(): string[] {
  const rules = parse(readFileSync(at('prometheus', 'alerts.yml'), 'utf8')) as { groups: { rules: { expr: string }[] }[] };
  return rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

describe('deploy/', () => {
  it('the alert rules pass promtool check rules and their unit tests, the scrape config promtool check config', () => {
    expect(promtool('check', 'rules', 'alerts.yml')).toContain('SUCCESS');
    expect(promtool('test', 'rules', 'alerts.test.yml')).toContain('SUCCESS');
    expect(promtool('check', 'config', 'prometheus.yml')).toContain('SUCCESS');
  });

  it('the Grafana dashboard parses and every metric it queries is one the gateway exports', async () => {
    const dashboard = JSON.parse(readFileSync(at('grafana', 'dashboards', 'switchyard.json'), 'utf8')) as { uid: string; panels: unknown[] };
    expect(dashboard.uid).toBe('switchyard');
    const { names, histograms } = await exported();
    const queried = queriedMetricNames(dashboardExprs(dashboard), histograms);
    expect(queried).toEqual(
      expect.arrayContaining([
        'switchyard_requests_total',
        'switchyard_request_duration_seconds',
        'switchyard_queue_duration_seconds',
        'switchyard_compute_duration_seconds',
        'switchyard_batch_size',
        'switchyard_queue_depth',
        'switchyard_online_accuracy',
        'switchyard_drift_psi',
        'switchyard_request_log_dropped_total',
        'switchyard_route_requests_total',
        'switchyard_route_shadow_argmax_total',
        'switchyard_route_canary_state',
        'switchyard_feature_lookup_duration_seconds',
        'switchyard_feature_cache_hits_total',
        'switchyard_feature_defaults_total',
      ]),
    );
    expect(queried.filter((n) => !names.has(n))).toEqual([]);
  });

  it('every metric the alert rules use is one the gateway exports', async () => {
    const { names, histograms } = await exported();
    const used = queriedMetricNames(alertExprs(), histograms);
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((n) => !names.has(n))).toEqual([]);
  });

  it('the monitoring metrics, with series in them, pass promtool check metrics', async () => {
    const registry = new Registry();
    new RequestLogMetrics(registry).forSink('file');
    const evaluation = new EvaluationMetrics(registry);
    evaluation.classified('tabular', '1', 3, 2);
    evaluation.regressed('price', '1', 2, 1.5, 1.25);
    const drift = new DriftMetrics(registry);
    drift.psi.set({ model: 'tabular', version: '1', column: 'x[0]' }, 0.05);
    drift.ks.set({ model: 'tabular', version: '1', column: 'x[0]' }, 0.02);
    drift.detected.set({ model: 'tabular', version: '1', column: 'x[0]' }, 0);
    const text = await registry.metrics();
    expect(text).toContain('switchyard_online_accuracy{model="tabular",version="1"} 0.6666666666666666');
    expect(() => execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: 'pipe' })).not.toThrow();
  });

  it('docker-compose runs gateway, Redis, Prometheus and Grafana from files that exist, and the gateway config is valid', () => {
    const compose = parse(readFileSync(at('docker-compose.yml'), 'utf8')) as {
      services: Record<string, { build?: { context: string; dockerfile: string }; volumes?: string[] }>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'grafana', 'prometheus', 'redis']);
    const build = compose.services.gateway.build!;
    expect(existsSync(path.join(DEPLOY, build.context, build.dockerfile))).toBe(true);
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (source.startsWith('.')) expect(existsSync(at(source)), source).toBe(true);
      }
    }
    const config = loadServerConfig(at('switchyard.yaml'), {});
    expect(config.request_log.sinks.map((s) => s.type)).toEqual(['file', 'redis_stream']);
    expect(config.redis.url).toBe('redis://redis:6379');
    // the root Dockerfile: its base pinned to an exact Node release, and the folder this
    // config's file sink writes to given to the gateway's user
    const dockerfile = readFileSync(path.join(DEPLOY, build.context, build.dockerfile), 'utf8');
    expect(dockerfile).toMatch(/^ARG BASE_IMAGE=node:\d+\.\d+\.\d+-trixie-slim$/m);
    expect(dockerfile).toMatch(/^FROM \$\{BASE_IMAGE\}$/m);
    const fileSink = config.request_log.sinks.find((s) => s.type === 'file');
    const owned = /^RUN install -d -o node -g node -m 0755 (.+)$/m.exec(dockerfile)?.[1].split(' ') ?? [];
    expect(owned).toEqual(expect.arrayContaining(['/app/examples/logs', '/app/examples/state']));
    expect(fileSink?.type === 'file' && owned.includes(path.dirname(fileSink.path))).toBe(true);
  });
});
