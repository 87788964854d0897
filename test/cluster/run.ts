/**
 * `npm run test:cluster`: three gateway replicas (the built CLI, child processes) sharing
 * one real redis-server, behind HAProxy on loopback (test/cluster/haproxy.ts), under
 * steady counted load through the load balancer (test/chaos/load.ts), while, in sequence,
 *   1. a route is changed through one replica's admin API, five times, each replica polled
 *      directly until it serves the change (must be within 1 s);
 *   2. a bandit route serves the load's route requests; each answer's reward goes to another
 *      replica than served it, every fourth a second time to the third replica; with the load
 *      paused, every replica must report pulls = requests routed to each arm and rewards =
 *      credited feedback;
 *   3. one replica is SIGKILLed and, 2 s later, another gets SIGTERM; the balancer must
 *      route around both.
 * Then it reads the three request logs and prints the books (ledger.ts); it exits 1 when a
 * count does not add up or a step failed. Needs `npm run build` first, haproxy and
 * redis-server on PATH.
 *
 * Environment: CLUSTER_RATE (requests/s through the balancer, default 300), CLUSTER_KEEP=1 keeps the temp folder.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import type { Sent } from '../chaos/ledger.js';
import { Load } from '../chaos/load.js';
import { adminCall, running, seriousLines, serveGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.js';
import { EXAMPLE_MODELS } from '../helpers/server.js';
import { startHaproxy, type RunningHaproxy } from './haproxy.js';
import { reconcileCluster, type Answer, type ArmCounts, type BanditSnapshot, type Feedback, type LogRecord } from './ledger.js';

const MODEL = 'tabular';
const BANDIT = 'cluster-bandit';
const SPLIT = 'cluster-split';
const RATE = Number(process.env.CLUSTER_RATE ?? 300);
const NAMES = ['g1', 'g2', 'g3'] as const;
const KILLED = 'g3';
const TERMINATED = 'g2';
const CHECK_INTERVAL_MS = 200;
const FLUSH_INTERVAL_MS = 50; // request_log.flush_interval_ms (the default)
const SYNC_INTERVAL_MS = 250; // the router's counter sync (its default)
const CHANGES = 5;
const PROPAGATION_LIMIT_MS = 1000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();
const started = now();
const say = (msg: string): void => console.log(`[cluster ${((now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

interface Replica {
  readonly name: string;
  readonly gateway: GatewayProcess;
  readonly requestLog: string;
  readonly processLog: string;
  /** takes no more feedback or admin calls (killed or stopping) */
  alive: boolean;
}

/** Sends each answered bandit request's reward to another replica than served it; every fourth twice, the second time to the third replica. */
class FeedbackSender {
  readonly sent: Feedback[] = [];
  private readonly queue: { id: string; arm: string; servedBy: string; n: number }[] = [];
  private running = 0;
  private idle: (() => void) | null = null;
  private n = 0;

  constructor(private readonly replicas: readonly Replica[]) {}

  push(id: string, arm: string, servedBy: string): void {
    this.queue.push({ id, arm, servedBy, n: this.n++ });
    if (this.running < 4) void this.work();
  }

  /** Resolves once every queued reward was answered. */
  drained(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => (this.idle = r));
  }

  private async work(): Promise<void> {
    this.running++;
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      // deterministic rewards: version 2 pays 3 times in 4, version 1 once in 4
      const reward = job.arm.endsWith(':2') ? (job.n % 4 !== 0 ? 1 : 0) : job.n % 4 === 0 ? 1 : 0;
      const first = await this.send(job, reward, [job.servedBy]);
      if (job.n % 4 === 1 && first !== null) await this.send(job, reward, [job.servedBy, first]);
    }
    if (--this.running === 0 && this.idle !== null) {
      const idle = this.idle;
      this.idle = null;
      idle();
    }
  }

  /** One reward to a live replica not in `not`; the replica it went to, or null when none could take it. */
  private async send(job: { id: string; arm: string; servedBy: string; n: number }, reward: number, not: readonly string[]): Promise<string | null> {
    const candidates = this.replicas.filter((r) => r.alive && !not.includes(r.name));
    for (let i = 0; i < candidates.length; i++) {
      const to = candidates[(job.n + i) % candidates.length];
      if (!to.alive) continue;
      let outcome: string;
      try {
        const r = await fetch(`${to.gateway.http}/v2/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: job.id, reward }) });
        const body = (await r.json()) as { reward?: string | null; error?: string };
        outcome = r.status === 200 ? String(body.reward) : r.status === 404 ? 'unknown' : `error: ${r.status} ${body.error ?? ''}`;
      } catch (e) {
        if (!to.alive) continue; // it was stopped meanwhile: the next candidate takes it
        outcome = `error: ${(e as Error).message}`;
      }
      this.sent.push({ id: job.id, arm: job.arm, reward, to: to.name, servedBy: job.servedBy, outcome, at: now() });
      return to.name;
    }
    return null;
  }
}

async function routeView(r: Replica, name: string): Promise<Record<string, unknown> | null> {
  const res = await fetch(`${r.gateway.http}/admin/routes/${name}`);
  if (res.status !== 200) return null;
  return (await res.json()) as Record<string, unknown>;
}

async function banditSnapshot(replicas: readonly Replica[]): Promise<BanditSnapshot> {
  const at = now();
  const views = new Map<string, Map<string, ArmCounts>>();
  for (const r of replicas) {
    const view = (await routeView(r, BANDIT)) as { bandit?: { arms: { model: string; version: string; pulls: number; rewards: number; reward_sum: number }[] } } | null;
    const arms = new Map<string, ArmCounts>();
    for (const a of view?.bandit?.arms ?? []) arms.set(`${a.model}:${a.version}`, { pulls: a.pulls, rewards: a.rewards, reward_sum: a.reward_sum });
    views.set(r.name, arms);
  }
  return { at, views };
}

/** Changes the split route's weights through `via` and polls every replica until it serves them; ms from the PUT to each replica. */
async function propagate(via: Replica, replicas: readonly Replica[], v1: number): Promise<Map<string, number>> {
  const spec = { policy: 'weighted', targets: [{ model: MODEL, version: '1', weight: v1 }, { model: MODEL, version: '2', weight: 100 - v1 }] };
  const t0 = now();
  const put = adminCall(`${via.gateway.http}/admin/routes/${SPLIT}`, 'PUT', spec, 'cluster');
  const seen = new Map<string, number>();
  await Promise.all(
    replicas.map(async (r) => {
      const until = t0 + 5000;
      while (now() < until) {
        const view = (await routeView(r, SPLIT)) as { spec?: { targets?: { weight?: number }[] } } | null;
        if (view?.spec?.targets?.[0]?.weight === v1) {
          seen.set(r.name, now() - t0);
          return;
        }
        await sleep(5);
      }
    }),
  );
  const res = await put;
  if (res.status !== 200 && res.status !== 201) throw new Error(`PUT /admin/routes/${SPLIT} on ${via.name} answered ${res.status}: ${res.text}`);
  return seen;
}

function readLog(path: string): LogRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LogRecord);
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-cluster-'));
  const steps: string[] = [];
  let redis: TestRedis | null = null;
  let lb: RunningHaproxy | null = null;
  const replicas: Replica[] = [];
  try {
    redis = await startRedis();
    const repo = join(dir, 'models');
    cpSync(join(EXAMPLE_MODELS, MODEL), join(repo, MODEL), { recursive: true });
    const started3 = await Promise.all(
      NAMES.map(async (name) => {
        mkdirSync(join(dir, name));
        const requestLog = join(dir, name, 'requests.jsonl');
        const config = join(dir, name, 'switchyard.yaml');
        writeFileSync(
          config,
          stringify({
            http: { host: '127.0.0.1', port: 0 },
            grpc: { host: '127.0.0.1', port: 0 },
            model_repository: repo,
            redis: { url: redis!.url },
            log_level: 'info',
            drain_timeout_s: 10,
            request_log: { flush_interval_ms: FLUSH_INTERVAL_MS, sinks: [{ type: 'file', path: requestLog, max_bytes: 2 ** 30, max_files: 1 }] },
          }),
        );
        const processLog = join(dir, name, 'gateway.log');
        return { name, gateway: await serveGateway(config, {}, processLog), requestLog, processLog, alive: true };
      }),
    );
    replicas.push(...started3);
    const [g1, g2] = replicas;
    const port = await freePort();
    lb = await startHaproxy(
      { port, statsPort: await freePort(), backends: replicas.map((r) => ({ name: r.name, address: r.gateway.http.slice('http://'.length) })), checkIntervalMs: CHECK_INTERVAL_MS },
      join(dir, 'haproxy.cfg'),
      join(dir, 'haproxy.log'),
    );
    say(`redis ${redis.url}; ${replicas.map((r) => `${r.name} pid ${r.gateway.child.pid} ${r.gateway.http}`).join(', ')}; haproxy ${lb.url}; ${RATE} requests/s`);

    const bandit = { policy: 'bandit', algorithm: 'thompson', reward: 'bernoulli', targets: [{ model: MODEL, version: '1' }, { model: MODEL, version: '2' }] };
    for (const [via, name, spec] of [
      [g1, BANDIT, bandit],
      [g2, SPLIT, { policy: 'weighted', targets: [{ model: MODEL, version: '1', weight: 50 }, { model: MODEL, version: '2', weight: 50 }] }],
    ] as const) {
      const r = await adminCall(`${via.gateway.http}/admin/routes/${name}`, 'PUT', spec, 'cluster');
      if (r.status !== 200 && r.status !== 201) throw new Error(`creating route ${name} failed: ${r.status} ${r.text}`);
    }
    for (const r of replicas) {
      const until = now() + 5000;
      while ((await routeView(r, BANDIT)) === null && now() < until) await sleep(10);
    }

    const answers = new Map<string, Answer>();
    const feedback = new FeedbackSender(replicas);
    const load = new Load({
      httpUrl: lb.url,
      grpcAddress: g1.gateway.grpc,
      model: MODEL,
      route: BANDIT,
      loops: { 'rest:model': 6, 'rest:route': 6, 'grpc:model': 0 },
      rate: RATE,
      idPrefix: 'cluster',
      onAnswer: (s: Sent, headers) => {
        const server = typeof headers['x-served-by'] === 'string' ? headers['x-served-by'] : null;
        const target = typeof headers['x-switchyard-target'] === 'string' ? headers['x-switchyard-target'] : null;
        answers.set(s.id, { server, target });
        if (s.lane === 'rest:route' && s.status === 200 && server !== null && target !== null) feedback.push(s.id, target, server);
      },
    });
    load.start();
    await sleep(2000);

    say(`1. ${CHANGES} changes of route ${SPLIT}, each through one replica, polled on all three`);
    const propagation: Map<string, number>[] = [];
    for (let i = 0; i < CHANGES; i++) {
      propagation.push(await propagate(replicas[i % replicas.length], replicas, i % 2 === 0 ? 90 : 10));
      await sleep(200);
    }
    say(`   worst ${Math.max(...propagation.flatMap((m) => [...m.values()])).toFixed(0)} ms`);
    await sleep(1000);

    say('2. bandit statistics on every replica, load paused, every reward answered');
    await load.pause();
    await feedback.drained();
    await sleep(3 * SYNC_INTERVAL_MS);
    const banditBefore = await banditSnapshot(replicas);
    load.resume();
    await sleep(2000);

    say(`3. SIGKILL ${KILLED}, then SIGTERM ${TERMINATED}`);
    const killedReplica = replicas.find((r) => r.name === KILLED)!;
    const termReplica = replicas.find((r) => r.name === TERMINATED)!;
    killedReplica.alive = false;
    const killedAt = now();
    killedReplica.gateway.child.kill('SIGKILL');
    await killedReplica.gateway.exited;
    await sleep(2000);
    termReplica.alive = false;
    const termAt = now();
    termReplica.gateway.child.kill('SIGTERM');
    const exit = await Promise.race([termReplica.gateway.exited, sleep(20_000).then(() => null)]);
    if (exit === null) steps.push(`${TERMINATED} did not exit within 20 s of SIGTERM`);
    else {
      say(`   ${TERMINATED} exited with code ${exit.code} ${((exit.at - termAt) / 1000).toFixed(2)} s after SIGTERM`);
      if (exit.code !== 0) steps.push(`${TERMINATED} exited with code ${exit.code} (signal ${exit.signal}) after SIGTERM; expected 0`);
    }
    // the balancer's view: both stopped replicas marked DOWN by their health checks
    let states = await lb.servers();
    for (const until = now() + 5000; now() < until && !(states.get(KILLED)?.startsWith('DOWN') && states.get(TERMINATED)?.startsWith('DOWN')); ) {
      await sleep(20);
      states = await lb.servers();
    }
    say(`   haproxy ${((now() - termAt) / 1000).toFixed(2)} s after SIGTERM: ${[...states].map(([n, st]) => `${n} ${st}`).join(', ')}`);
    for (const name of [KILLED, TERMINATED]) if (!String(states.get(name)).startsWith('DOWN')) steps.push(`haproxy still has ${name} ${states.get(name)} 5 s after it stopped`);
    await sleep(2000);

    load.gone = true;
    await load.finished();
    await feedback.drained();
    await sleep(3 * SYNC_INTERVAL_MS);
    const banditAfter = await banditSnapshot([g1]);
    g1.alive = false;
    g1.gateway.child.kill('SIGTERM');
    const g1Exit = await Promise.race([g1.gateway.exited, sleep(20_000).then(() => null)]);
    if (g1Exit === null || g1Exit.code !== 0) steps.push(`g1 did not exit cleanly after the final SIGTERM: ${JSON.stringify(g1Exit)}`);

    const retried = await lb.retries();
    const lbLine = `haproxy retried / redispatched away from ${[...retried].map(([n, r]) => `${n} ${r.retried}/${r.redispatched}`).join(', ')}`;
    const { table, problems } = reconcileCluster({
      replicas: NAMES,
      sent: load.sent,
      answers,
      logs: new Map(replicas.map((r) => [r.name, readLog(r.requestLog)])),
      killed: { name: KILLED, at: killedAt },
      terminated: { name: TERMINATED, at: termAt },
      unflushedBoundMs: FLUSH_INTERVAL_MS + 200,
      unsyncedBoundMs: SYNC_INTERVAL_MS + 250,
      detectMs: 3 * CHECK_INTERVAL_MS, // fall 2 checks, and one in progress
      feedback: feedback.sent,
      banditBefore,
      banditAfter,
      propagation,
      propagationLimitMs: PROPAGATION_LIMIT_MS,
    });
    console.log('');
    for (const line of table) console.log(line);
    console.log(lbLine);
    console.log('');
    const all = [...steps, ...problems];
    if (all.length > 0) {
      console.log(`FAILED: ${all.length} problem(s)`);
      for (const p of all) console.log(`  - ${p}`);
      for (const r of replicas) {
        const serious = seriousLines(readFileSync(r.processLog, 'utf8'), 10);
        if (serious.total > 0) console.log(`${r.name}'s warnings and errors (last ${serious.last.length} of ${serious.total}):`);
        for (const l of serious.last) console.log(`  ${l}`);
      }
      // the books, for a closer look at what did not add up (the folder is kept)
      writeFileSync(join(dir, 'books.json'), JSON.stringify({ sent: load.sent, answers: [...answers], feedback: feedback.sent, killedAt, termAt }));
      process.env.CLUSTER_KEEP = '1';
      return 1;
    }
    console.log(`OK: every count adds up (${((now() - started) / 1000).toFixed(1)} s)`);
    return 0;
  } finally {
    for (const r of replicas) if (running(r.gateway)) r.gateway.child.kill('SIGKILL');
    await lb?.stop();
    await redis?.stop();
    if (process.env.CLUSTER_KEEP === '1') console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error('cluster run failed:', e);
    process.exit(1);
  },
);
