import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { uwsNative } from '../../src/transport/http/index.js';
import { BIN, ROOT, cleanEnv, serve } from '../helpers/cli.js';
import { EXAMPLE_MODELS, tabularRequest, tabularRows } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the native uWebSockets.js binary', () => {
  it('is the one in use (not the pure-JS fallback)', () => {
    expect(uwsNative).toBe(true);
  });
});

describe('switchyard doctor', () => {
  it('prints Node, uWS, ONNX Runtime and the execution providers', () => {
    const r = spawnSync(process.execPath, [BIN, 'doctor'], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`node             ${process.version}`);
    expect(r.stdout).toContain('uWebSockets.js   native binary loaded');
    expect(r.stdout).toMatch(/onnxruntime\s+1\.\d+\.\d+/);
    expect(r.stdout).toMatch(/cpu\s+available/);
    expect(r.stdout).toMatch(/cuda\s+(available|not available)/);
    expect(r.stdout).toMatch(/tensorrt\s+(available|not available)/);
    const j = spawnSync(process.execPath, [BIN, 'doctor', '--json'], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    const report = JSON.parse(j.stdout) as {
      uws: string;
      uwsBuild: { package: string; version: string };
      uwsNotLoaded: { package: string; reason: string }[];
      providers: { name: string; available: boolean }[];
    };
    expect(report.uws).toBe('native');
    // which build loaded, and why each other one is not in use, also in the text
    expect(['@btc-vision/uwebsockets.js', '@trufflesuite/uws-js-unofficial']).toContain(report.uwsBuild.package);
    expect(r.stdout).toContain(`native binary loaded: ${report.uwsBuild.package} ${report.uwsBuild.version}`);
    expect(report.uwsNotLoaded).toHaveLength(2);
    for (const n of report.uwsNotLoaded) expect(r.stdout).toContain(`${n.package} `);
    expect(report.providers.find((p) => p.name === 'cpu')?.available).toBe(true);
  });
});

describe('switchyard serve', () => {
  it('stops at startup on an invalid config, naming the key, the value and what was expected', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'http:\n  port: "eighty"\nmodel_repository: ./models\n');
    const r = spawnSync(process.execPath, [BIN, 'serve', '--config', file], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 30_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/http\.port/);
    expect(r.stderr).toMatch(/eighty/);
    const env = spawnSync(process.execPath, [BIN, 'serve', '--config', 'examples/switchyard.yaml'], {
      cwd: ROOT,
      env: cleanEnv({ SWITCHYARD_HTTP_PORT: 'x80' }),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(env.status).not.toBe(0);
    expect(env.stderr).toMatch(/SWITCHYARD_HTTP_PORT/);
  });

  it('serves the example config with env overrides and drains on SIGTERM, exiting 0', async () => {
    const { child, port } = await serve(['--config', 'examples/switchyard.yaml'], {
      SWITCHYARD_HTTP_PORT: '0',
      SWITCHYARD_GRPC_PORT: '0',
      SWITCHYARD_MODEL_REPOSITORY: EXAMPLE_MODELS,
      // not examples/state: a gateway started by `npm start` may hold it, and a test leaves no state behind
      SWITCHYARD_STATE_DIR: join(dir, 'state'),
    });
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    // requests in flight when SIGTERM arrives still get their answers
    const inflight = Array.from({ length: 64 }, () =>
      fetch(`${url}/v2/models/tabular/infer`, { method: 'POST', body: JSON.stringify(tabularRequest(tabularRows(4))) }).then((r) => r.status),
    );
    // once one has been answered the server is serving the others: stop it now
    await Promise.race(inflight);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const statuses = await Promise.all(inflight.map((p) => p.catch(() => -1)));
    expect(await exited).toBe(0);
    // each one completed, or was refused with a clear 503 because it arrived after the stop
    // began, or (-1) could not connect because the listener had already closed; none failed
    // any other way
    for (const s of statuses) expect([200, 503, -1]).toContain(s);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
  });
});

describe('switchyard features load', () => {
  it('writes the rows into Redis and reports the rejected ones with their line numbers, exiting 1', async () => {
    const { startRedis } = await import('../helpers/redis.js');
    const { Redis } = await import('ioredis');
    const redis = await startRedis();
    try {
      const csv = join(dir, 'customers.csv');
      const fields = ['age', 'tenure_days', 'spend_30d', 'spend_90d', 'orders_30d', 'orders_90d', 'returns_90d', 'avg_basket', 'days_since_last_order', 'sessions_7d', 'sessions_30d', 'support_tickets_90d', 'discount_rate', 'email_open_rate', 'is_premium', 'credit_score'];
      const row = (id: string, first: string) => [id, first, ...fields.slice(1).map((_, i) => String(i))].join(',');
      writeFileSync(csv, [['customer_id', ...fields].join(','), row('z1', '41'), row('z2', 'forty'), row('', '30'), row('z3', '29')].join('\n') + '\n');
      const r = spawnSync(process.execPath, [BIN, 'features', 'load', '--view', 'customer', '--file', csv, '--redis', redis.url, '--config', 'examples/switchyard.yaml'], {
        cwd: ROOT,
        env: cleanEnv(),
        encoding: 'utf8',
      });
      expect(r.stdout).toMatch(/view customer: 2 rows written, 2 rejected/);
      expect(r.stdout).toMatch(/line 3: .*age/);
      expect(r.stdout).toMatch(/line 4: /);
      expect(r.status).toBe(1);
      const client = new Redis(redis.url);
      try {
        expect(await client.hget('customer:z1', 'age')).toBe('41');
        expect(await client.exists('customer:z2')).toBe(0);
      } finally {
        client.disconnect();
      }
    } finally {
      await redis.stop();
    }
  });

  it('says what to do when there is no Redis to load into', () => {
    const r = spawnSync(process.execPath, [BIN, 'features', 'load', '--view', 'customer', '--file', 'x.csv', '--config', 'examples/switchyard.yaml'], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--redis/);
  });
});

describe('switchyard routes', () => {
  it('lists, sets, re-weights and audits routes of a running gateway through the admin API', async () => {
    const { startTestServer } = await import('../helpers/server.js');
    const t = await startTestServer({ admin_token: 'tok' });
    const cli = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'routes', ...args, '--url', t.url], { cwd: ROOT, env: cleanEnv({ SWITCHYARD_ADMIN_TOKEN: 'tok' }) });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (status) => resolve({ status, stdout, stderr }));
      });
    try {
      const spec = join(dir, 'ab.yaml');
      writeFileSync(spec, 'policy: weighted\ntargets:\n  - { model: tabular, version: "1", weight: 90 }\n  - { model: tabular, version: "2", weight: 10 }\n');
      const set = await cli('set', 'ab', '--file', spec);
      expect(set.status, set.stderr).toBe(0);
      expect((await cli('list')).stdout).toMatch(/ab\s+weighted\s+tabular:1 90 \/ tabular:2 10/);
      const weights = await cli('set-weights', 'ab', 'tabular:1=0', 'tabular:2=100');
      expect(weights.status, weights.stderr).toBe(0);
      expect((await cli('list')).stdout).toMatch(/tabular:1 0 \/ tabular:2 100/);
      const bad = await cli('set-weights', 'ab', 'tabular:1=0', 'tabular:2=0');
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/400/);
      expect((await cli('set-weights', 'ab', 'tabular=5')).stderr).toMatch(/expected model:version=weight/);
      const audit = await cli('audit', '--limit', '5');
      expect(audit.stdout).toMatch(/"actor": "cli:/);
      const unreachable = spawnSync(process.execPath, [BIN, 'routes', 'list', '--url', 'http://127.0.0.1:9'], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8' });
      expect(unreachable.status).toBe(1);
      expect(unreachable.stderr).toMatch(/cannot reach the gateway/);
    } finally {
      await t.stop();
    }
  });
});
