/**
 * `npm run test:chaos`: steady load against a real gateway (the built CLI, a child process)
 * with a real redis-server, while, in sequence,
 *   a. the model is reloaded through the admin API,
 *   b. model worker threads are killed (SWITCHYARD_FAULT_INJECTION=worker-exit-on-file),
 *   c. Redis is SIGKILLed and restarted empty (the gateway must write its runtime route back),
 *   d. the gateway gets SIGTERM (draining).
 * Then it reads the gateway's request log and prints sent / answered / failed / logged /
 * requests_total per lane; it exits 1 when a count does not add up (ledger.ts says which
 * counts must) or a step of the run failed. Needs `npm run build` first (dist/ for the CLI).
 *
 * Environment: CHAOS_RATE (requests/s, default 1500), CHAOS_REDIS_DOWN_MS (default 1500), CHAOS_KEEP=1 keeps the temp folder.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { adminCall, seriousLines, serveGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { EXAMPLE_MODELS } from '../helpers/server.js';
import { reconcile, type ChaosRun } from './ledger.js';
import { Load } from './load.js';

const MODEL = 'tabular';
const ROUTE = 'chaos-split';
const MAX_BATCH = 64; // examples/models/tabular/config.yaml
const RELOADS = 6;
const KILLS = 6;
const RATE = Number(process.env.CHAOS_RATE ?? 1500);
const REDIS_DOWN_MS = Number(process.env.CHAOS_REDIS_DOWN_MS ?? 1500);
const ROUTES_KEY = 'switchyard:routing:routes';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();
const started = now();
const say = (msg: string): void => console.log(`[chaos ${((now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

/** switchyard_requests_total summed by its protocol and status labels (key "rest,success", as ledger.metricKey). */
function requestsByStatus(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('switchyard_requests_total{')) continue;
    const key = `${/protocol="([^"]*)"/.exec(line)?.[1] ?? '?'},${/status="([^"]*)"/.exec(line)?.[1] ?? '?'}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.split(' ').pop()));
  }
  return out;
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-chaos-'));
  const steps: string[] = []; // a step of the run that failed (besides the ledger's counts)
  let redis: TestRedis | null = await startRedis();
  let gateway: GatewayProcess | null = null;
  try {
    const repo = join(dir, 'models');
    cpSync(join(EXAMPLE_MODELS, MODEL), join(repo, MODEL), { recursive: true });
    const requestLog = join(dir, 'requests.jsonl');
    const killFile = join(dir, 'kill-a-worker');
    const config = join(dir, 'switchyard.yaml');
    writeFileSync(
      config,
      stringify({
        http: { host: '127.0.0.1', port: 0 },
        grpc: { host: '127.0.0.1', port: 0 },
        model_repository: repo,
        redis: { url: redis.url },
        log_level: 'info',
        drain_timeout_s: 10,
        request_log: { sinks: [{ type: 'file', path: requestLog, max_bytes: 2 ** 30, max_files: 1 }] },
      }),
    );
    const gatewayLog = join(dir, 'gateway.log');
    gateway = await serveGateway(config, { SWITCHYARD_FAULT_INJECTION: `worker-exit-on-file=${killFile}` }, gatewayLog);
    say(`gateway pid ${gateway.child.pid} on ${gateway.http} and ${gateway.grpc}; redis pid ${redis.pid} on ${redis.url}; ${RATE} requests/s`);

    const put = await adminCall(`${gateway.http}/admin/routes/${ROUTE}`, 'PUT', {
      policy: 'weighted',
      targets: [
        { model: MODEL, version: '1', weight: 50 },
        { model: MODEL, version: '2', weight: 50 },
      ],
    }, 'chaos');
    if (put.status !== 200 && put.status !== 201) throw new Error(`creating route ${ROUTE} failed: ${put.status} ${put.text}`);

    const load = new Load({ httpUrl: gateway.http, grpcAddress: gateway.grpc, model: MODEL, route: ROUTE, loops: { 'rest:model': 12, 'rest:route': 12, 'grpc:model': 4 }, rate: RATE });
    load.start();
    await sleep(2000);

    // a. reloads under load
    say(`a. ${RELOADS} reloads of ${MODEL} through POST /v2/repository/models/${MODEL}/load`);
    const reload = { from: now(), to: 0 };
    for (let i = 0; i < RELOADS; i++) {
      const r = await adminCall(`${gateway.http}/v2/repository/models/${MODEL}/load`, 'POST', {}, 'chaos');
      if (r.status !== 200) steps.push(`reload ${i + 1} answered ${r.status}: ${r.text.slice(0, 200)}`);
      await sleep(400);
    }
    reload.to = now();
    await sleep(1000);

    // b. worker kills: each file is taken (removed) by the first worker to start a batch, which exits
    say(`b. ${KILLS} worker threads killed, one at a time`);
    const workers = { from: now(), to: 0 };
    let kills = 0;
    for (let i = 0; i < KILLS; i++) {
      writeFileSync(killFile, '');
      const until = now() + 5000;
      while (existsSync(killFile) && now() < until) await sleep(5);
      if (existsSync(killFile)) {
        steps.push(`kill ${i + 1}: no worker took ${killFile} within 5 s (no batch ran?)`);
        rmSync(killFile, { force: true });
      } else kills++;
      workers.to = now();
      await sleep(400);
    }
    await sleep(1000);

    // c. Redis SIGKILLed, restarted empty on its port; the gateway must write the route back
    say(`c. Redis SIGKILLed, restarted empty after ${REDIS_DOWN_MS} ms`);
    const redisWindow = { from: now(), to: 0, restartedAt: 0 };
    const port = redis.port;
    process.kill(redis.pid, 'SIGKILL');
    await redis.stop(); // waits for the exit
    redis = null;
    await sleep(REDIS_DOWN_MS);
    redis = await startRedis({ port });
    redisWindow.restartedAt = now();
    const probe = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    probe.on('error', () => undefined);
    try {
      const until = now() + 15_000;
      while (now() < until && (await probe.hexists(ROUTES_KEY, ROUTE).catch(() => 0)) !== 1) await sleep(20);
      if ((await probe.hexists(ROUTES_KEY, ROUTE)) !== 1) steps.push(`route ${ROUTE} was not written back to the restarted Redis within 15 s`);
    } finally {
      probe.disconnect();
    }
    redisWindow.to = now();
    say(`   route back in Redis ${((redisWindow.to - redisWindow.restartedAt) / 1000).toFixed(2)} s after the restart`);
    await sleep(2000);

    // metrics, with nothing in flight, then SIGTERM under load
    await load.pause();
    const scrapedAt = now();
    const metricsText = await (await fetch(`${gateway.http}/metrics`)).text();
    const metrics = { at: scrapedAt, byStatus: requestsByStatus(metricsText) };
    load.resume();
    await sleep(500);
    say('d. SIGTERM to the gateway under load');
    const sigtermAt = now();
    load.stopping = true;
    gateway.child.kill('SIGTERM');
    const exit = await Promise.race([gateway.exited, sleep(20_000).then(() => null)]);
    load.gone = true;
    if (exit === null) {
      steps.push('the gateway did not exit within 20 s of SIGTERM (drain_timeout_s is 10)');
      gateway.child.kill('SIGKILL');
    } else {
      say(`   gateway exited with code ${exit.code} ${((exit.at - sigtermAt) / 1000).toFixed(2)} s after SIGTERM`);
      if (exit.code !== 0) steps.push(`the gateway exited with code ${exit.code} (signal ${exit.signal}) after SIGTERM; expected 0`);
    }
    await load.finished();

    const logged = readFileSync(requestLog, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { request_id: string; status: string });
    const run: ChaosRun = { sent: load.sent, reload, workers, kills, maxBatch: MAX_BATCH, redis: redisWindow, sigtermAt, logged, metrics };
    const { table, problems } = reconcile(run);
    console.log('');
    for (const line of table) console.log(line);
    console.log('');
    const all = [...steps, ...problems];
    if (all.length > 0) {
      console.log(`FAILED: ${all.length} problem(s); the gateway's log is ${gatewayLog}`);
      for (const p of all) console.log(`  - ${p}`);
      // CI keeps no temp folder: the gateway's warnings and errors go with the failure
      const serious = seriousLines(readFileSync(gatewayLog, 'utf8'));
      if (serious.total > 0) console.log(`the gateway's warnings and errors (last ${serious.last.length} of ${serious.total}):`);
      for (const l of serious.last) console.log(`  ${l}`);
      process.env.CHAOS_KEEP = '1';
      return 1;
    }
    console.log(`OK: every count adds up (${((now() - started) / 1000).toFixed(1)} s)`);
    return 0;
  } finally {
    if (gateway !== null && gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
    await redis?.stop();
    if (process.env.CHAOS_KEEP === '1') console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error('chaos run failed:', e);
    process.exit(1);
  },
);
