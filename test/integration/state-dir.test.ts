/**
 * State without Redis (issue 18): a real `switchyard serve` process keeps the routes changed at
 * run time, their canary step, bandit statistics and the audit log in state_dir across a
 * SIGTERM and a restart, and across a SIGKILL in the middle of a burst of route changes; a
 * damaged state file or an unusable state_dir stops the startup with the way out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BIN, ROOT, cleanEnv, serve } from '../helpers/cli.js';
import { EXAMPLE_MODELS, getJson, postJson, tabularRequest, tabularRows } from '../helpers/server.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temp folder with a copy of the example models and a config; state_dir left to its default (./state beside the config). */
function setup(extra: Record<string, unknown> = {}): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-state-it-'));
  dirs.push(dir);
  cpSync(EXAMPLE_MODELS, join(dir, 'models'), { recursive: true });
  const config = join(dir, 'switchyard.yaml');
  writeFileSync(config, stringify({ http: { host: '127.0.0.1', port: 0 }, grpc: { enabled: false }, model_repository: './models', log_level: 'info', drain_timeout_s: 5, ...extra }));
  return { dir, config };
}

async function start(config: string): Promise<{ child: ChildProcess; url: string }> {
  const { child, port } = await serve(['--config', config], {});
  children.push(child);
  return { child, url: `http://127.0.0.1:${port}` };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Runs `switchyard serve` expecting it to refuse to start: its exit code and stderr. */
function refused(config: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

async function send(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
}

const infer = (url: string, route: string) => postJson(`${url}/v2/models/${route}/infer`, tabularRequest(tabularRows(1)));

const CANARY = {
  policy: 'canary',
  baseline: { model: 'tabular', version: '1' },
  candidate: { model: 'tabular', version: '2' },
  steps: [10, 50, 90],
  step_interval_s: 0.4,
  analysis: { min_requests: 1, max_error_rate: 1, max_p99_latency_ratio: 1000 },
};
const BANDIT = { policy: 'bandit', algorithm: 'thompson', reward: 'bernoulli', targets: [{ model: 'tabular', version: '1' }, { model: 'tabular', version: '2' }] };

type View = { revision: number; canary: { state: string; step: number; window: unknown; history: unknown[] } | null; bandit: { arms: unknown[] } | null; targets: unknown[] };

describe('state_dir without Redis', () => {
  it('a gateway stopped with SIGTERM and started again keeps run-time routes, the canary step, bandit statistics and the audit log', async () => {
    const { dir, config } = setup();
    const a = await start(config);
    expect((await send(a.url, 'PUT', '/admin/routes/rollout', CANARY)).status).toBe(200);
    expect((await send(a.url, 'PUT', '/admin/routes/arms', BANDIT)).status).toBe(200);
    // the canary passes its first step (both sides served), then is paused to hold still
    let step = 0;
    for (let i = 0; i < 400 && step < 1; i++) {
      await infer(a.url, 'rollout');
      step = ((await getJson(`${a.url}/admin/routes/rollout`)).json as unknown as View).canary!.step;
    }
    expect(step).toBeGreaterThanOrEqual(1);
    expect((await send(a.url, 'POST', '/admin/routes/rollout/pause')).status).toBe(200);
    for (let i = 0; i < 5; i++) await infer(a.url, 'rollout');
    // bandit pulls and rewards
    for (let i = 0; i < 8; i++) {
      const r = await infer(a.url, 'arms');
      expect(r.status).toBe(200);
      expect((await postJson(`${a.url}/v2/feedback`, { id: r.json.id, reward: i % 2 })).json.reward).toBe('credited');
    }
    const before = {
      rollout: (await getJson(`${a.url}/admin/routes/rollout`)).json as unknown as View,
      arms: (await getJson(`${a.url}/admin/routes/arms`)).json as unknown as View,
      audit: (await getJson(`${a.url}/admin/audit?limit=50`)).json,
    };
    expect(before.rollout.canary!.state).toBe('paused');
    expect(JSON.stringify(before.arms.bandit)).toMatch(/"pulls":[1-9]/);

    a.child.kill('SIGTERM');
    expect(await exited(a.child)).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dir, 'state', 'routes.json'))).toBe(true);
    expect(existsSync(join(dir, 'state', 'lock'))).toBe(false);

    const b = await start(config);
    const after = {
      rollout: (await getJson(`${b.url}/admin/routes/rollout`)).json as unknown as View,
      arms: (await getJson(`${b.url}/admin/routes/arms`)).json as unknown as View,
      audit: (await getJson(`${b.url}/admin/audit?limit=50`)).json,
    };
    expect(after).toEqual(before);
    // and it goes on from there: resume, and the next change has a newer revision
    const resumed = await send(b.url, 'POST', '/admin/routes/rollout/resume');
    expect(resumed.status).toBe(200);
    expect((resumed.json as unknown as View).revision).toBeGreaterThan(before.rollout.revision);
    expect((resumed.json as unknown as View).canary!.step).toBe(before.rollout.canary!.step);
    b.child.kill('SIGTERM');
    await exited(b.child);
  }, 60_000);

  it('a gateway killed with SIGKILL during a burst of route changes restarts with the last acknowledged route or the one in flight', async () => {
    const { config } = setup();
    for (let round = 0; round < 3; round++) {
      const g = await start(config);
      let acknowledged = -1;
      const prior = await getJson(`${g.url}/admin/routes/burst`);
      if (prior.status === 200) acknowledged = (prior.json as { spec: { targets: { weight: number }[] } }).spec.targets[0].weight;
      const burst = (async () => {
        for (let w = 0; ; w = (w + 1) % 101) {
          const r = await send(g.url, 'PUT', '/admin/routes/burst', { policy: 'weighted', targets: [{ model: 'tabular', version: '1', weight: w }, { model: 'tabular', version: '2', weight: 100 - w }] }).catch(() => null);
          if (r === null) return;
          if (r.status === 200) acknowledged = w;
        }
      })();
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 300));
      g.child.kill('SIGKILL');
      await exited(g.child);
      await burst;
      const h = await start(config);
      const now = await getJson(`${h.url}/admin/routes/burst`);
      expect(now.status).toBe(200);
      const w = (now.json as { spec: { targets: { weight: number }[] } }).spec.targets[0].weight;
      expect([acknowledged, (acknowledged + 1) % 101], `round ${round}`).toContain(w);
      h.child.kill('SIGKILL');
      await exited(h.child);
    }
  }, 90_000);

  it('refuses to start on a damaged state file, naming it and how to recover', async () => {
    const { dir, config } = setup();
    const a = await start(config);
    expect((await send(a.url, 'PUT', '/admin/routes/arms', BANDIT)).status).toBe(200);
    a.child.kill('SIGTERM');
    await exited(a.child);
    const file = join(dir, 'state', 'routes.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, -10));
    const r = await refused(config);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`the state file ${file} is damaged`);
    expect(r.stderr).toContain(`mv ${file} ${file}.damaged`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  }, 60_000);

  it('refuses to start when state_dir cannot be used, saying what to do; state_dir: null keeps routes in memory', async () => {
    const { dir, config } = setup({ state_dir: './blocked/state' });
    writeFileSync(join(dir, 'blocked'), 'a file where the folder should be');
    const r = await refused(config);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`state_dir ${join(dir, 'blocked', 'state')} cannot be written`);
    expect(r.stderr).toMatch(/set state_dir: null/);

    const mem = setup({ state_dir: null });
    const g = await start(mem.config);
    expect((await send(g.url, 'PUT', '/admin/routes/arms', BANDIT)).status).toBe(200);
    expect(existsSync(join(mem.dir, 'state'))).toBe(false);
    g.child.kill('SIGTERM');
    await exited(g.child);
  }, 60_000);
});
