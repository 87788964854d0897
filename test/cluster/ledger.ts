/**
 * The cluster run's books (pure; run.ts fills them in, ledger.test.ts proves the checks):
 * every request the load sent through the load balancer, the replica that answered it
 * (HAProxy's x-served-by) and the target a route picked (x-switchyard-target), every
 * request-log record of every replica, every feedback call, the bandit statistics each
 * replica reported, and the route propagation times. reconcileCluster() says whether the
 * counts add up.
 */
import type { Reconciled, Sent } from '../chaos/ledger.js';

/** What an answer's headers said. */
export interface Answer {
  /** the replica that answered (the load balancer's server name) */
  readonly server: string | null;
  /** `<model>:<version>` a route picked, else null */
  readonly target: string | null;
}

export interface LogRecord {
  readonly request_id: string;
  readonly status: string;
}

/** One POST /v2/feedback. */
export interface Feedback {
  readonly id: string;
  /** the target that served the request (its arm) */
  readonly arm: string;
  readonly reward: number;
  /** the replica the feedback went to, and the one that had served the request */
  readonly to: string;
  readonly servedBy: string;
  /** 'credited' | 'duplicate' | 'unknown' | 'error: …' */
  readonly outcome: string;
  /** performance.now() ms when the answer came */
  readonly at: number;
}

export interface ArmCounts {
  readonly pulls: number;
  readonly rewards: number;
  readonly reward_sum: number;
}

/** GET /admin/routes/<bandit> of each replica asked, arm (`model:version`) → counts. */
export interface BanditSnapshot {
  readonly at: number;
  readonly views: ReadonlyMap<string, ReadonlyMap<string, ArmCounts>>;
}

export interface ClusterRun {
  readonly replicas: readonly string[];
  readonly sent: readonly Sent[];
  readonly answers: ReadonlyMap<string, Answer>;
  /** the request log of each replica, in file order */
  readonly logs: ReadonlyMap<string, readonly LogRecord[]>;
  readonly killed: { readonly name: string; readonly at: number };
  readonly terminated: { readonly name: string; readonly at: number };
  /** a SIGKILLed replica loses the records of answers given this long before the kill at most (flush interval + event-loop slack) */
  readonly unflushedBoundMs: number;
  /** a SIGKILLed replica loses the bandit pulls it counted this long before the kill at most (counter sync interval + slack) */
  readonly unsyncedBoundMs: number;
  /** how long after the kill the load balancer may still send a request to the killed replica (a few health check intervals) */
  readonly detectMs: number;
  /** the bandit route: every route request of the load goes to it */
  readonly feedback: readonly Feedback[];
  /** taken with the load paused and every feedback answered, before any replica was stopped: every replica must agree, exactly */
  readonly banditBefore: BanditSnapshot;
  /** taken at the end, load stopped, from the surviving replicas */
  readonly banditAfter: BanditSnapshot;
  /** per route change: ms until each replica (by name) served the new spec */
  readonly propagation: readonly ReadonlyMap<string, number>[];
  readonly propagationLimitMs: number;
}

export const SUCCESS = 'success';
export const DRAINING = 'SY_ERR_DRAINING';

const inFlightAt = (s: Sent, at: number): boolean => s.sentAt <= at && (s.doneAt ?? Infinity) >= at;

/**
 * Checks the run:
 *  1. every request got an answer or a client error; answers are 200 (the load balancer
 *     retries what a replica refused) except requests in flight at the SIGKILL, each absent
 *     from every surviving replica's log (no one ran it to the end);
 *  2. each replica's log holds every answer it gave exactly once, as success; the SIGKILLed
 *     replica may miss the answers of its last `unflushedBoundMs` (its unflushed buffer) and
 *     may hold records of requests in flight at the kill (answers lost with it); the
 *     SIGTERMed replica may hold SY_ERR_DRAINING records of requests the balancer then sent
 *     elsewhere; nothing else;
 *  3. bandit: before any stop, every replica reports the same arms, pulls = route answers
 *     per target and rewards = feedback credited per target; each id is credited once (a
 *     second feedback to another replica is a duplicate), none is unknown. At the end the
 *     rewards still add up exactly, and pulls within what the SIGKILL can lose or double;
 *  4. every route change reached every replica within the limit.
 */
export function reconcileCluster(run: ClusterRun): Reconciled {
  const problems: string[] = [];
  const { killed, terminated } = run;
  const survivors = run.replicas.filter((r) => r !== killed.name);
  const note = (what: string, ids: readonly string[]): void => {
    if (ids.length > 0) problems.push(`${ids.length} ${what}: ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`);
  };
  const server = (s: Sent): string | null => run.answers.get(s.id)?.server ?? null;
  const ok = run.sent.filter((s) => s.status === 200);
  const failed = run.sent.filter((s) => s.status !== 200);

  // logs by replica: id → statuses
  const logged = new Map<string, Map<string, string[]>>();
  for (const r of run.replicas) {
    const m = new Map<string, string[]>();
    for (const rec of run.logs.get(r) ?? []) {
      const l = m.get(rec.request_id);
      if (l === undefined) m.set(rec.request_id, [rec.status]);
      else l.push(rec.status);
    }
    logged.set(r, m);
  }
  const inSurvivingLog = (id: string): boolean => survivors.some((r) => logged.get(r)!.has(id));

  // 1. answers and failures
  note('requests got neither an answer nor a client error', run.sent.filter((s) => s.status === null && s.failure === null).map((s) => s.id));
  note('answers 200 did not say which replica gave them (x-served-by)', ok.filter((s) => server(s) === null).map((s) => s.id));
  const excusedFailure = (s: Sent): boolean => s.sentAt <= killed.at + run.detectMs && (s.doneAt ?? Infinity) >= killed.at && !inSurvivingLog(s.id);
  note(
    'requests failed at the load balancer other than those in flight at the SIGKILL and absent from every surviving log',
    failed.filter((s) => !excusedFailure(s)).map((s) => `${s.id} ${s.status ?? s.failure ?? ''}`),
  );
  note('answers came from the SIGKILLed replica after the kill', ok.filter((s) => server(s) === killed.name && (s.doneAt ?? 0) > killed.at + run.detectMs).map((s) => s.id));

  // 2. logs
  let unflushed = 0;
  let unflushedOldestMs = 0;
  let lostAnswers = 0;
  let drainRetried = 0;
  for (const r of run.replicas) {
    const log = logged.get(r)!;
    const mine = ok.filter((s) => server(s) === r);
    const mineIds = new Set(mine.map((s) => s.id));
    const missing = mine.filter((s) => !log.has(s.id));
    if (r === killed.name) {
      const tooOld = missing.filter((s) => (s.doneAt ?? 0) < killed.at - run.unflushedBoundMs);
      note(`answers of the SIGKILLed ${r} are missing from its log although given more than ${run.unflushedBoundMs} ms before the kill`, tooOld.map((s) => s.id));
      unflushed += missing.length;
      for (const s of missing) unflushedOldestMs = Math.max(unflushedOldestMs, killed.at - (s.doneAt ?? killed.at));
    } else note(`answers of ${r} are missing from its log`, missing.map((s) => s.id));
    note(`answers of ${r} are in its log more than once`, mine.filter((s) => (log.get(s.id)?.length ?? 0) > 1).map((s) => s.id));
    note(`answers of ${r} are logged with another status than success`, mine.filter((s) => log.get(s.id)?.length === 1 && log.get(s.id)![0] !== SUCCESS).map((s) => s.id));
    const sentById = new Map(run.sent.map((s) => [s.id, s]));
    const foreign = [...log].filter(([id]) => !mineIds.has(id));
    const excused = (id: string, statuses: readonly string[]): 'lost' | 'drain' | null => {
      const s = sentById.get(id);
      if (s === undefined) return null;
      if (r === killed.name && statuses.length === 1 && inFlightAt(s, killed.at)) return 'lost';
      if (r === terminated.name && statuses.every((st) => st === DRAINING) && (s.doneAt ?? 0) >= terminated.at && (s.status !== 200 || server(s) !== r)) return 'drain';
      return null;
    };
    const unexplained: string[] = [];
    for (const [id, statuses] of foreign) {
      const why = excused(id, statuses);
      if (why === 'lost') lostAnswers++;
      else if (why === 'drain') drainRetried += statuses.length;
      else unexplained.push(`${id} (${statuses.join('+')})`);
    }
    note(`records in the log of ${r} are not answers it gave, nor explained by the SIGKILL or the drain`, unexplained);
  }
  const records = run.replicas.reduce((n, r) => n + (run.logs.get(r)?.length ?? 0), 0);
  if (records !== ok.length - unflushed + lostAnswers + drainRetried) {
    problems.push(`request-log records ${records} ≠ answered ${ok.length} − unflushed at the SIGKILL ${unflushed} + logged but lost in the kill ${lostAnswers} + draining 503s retried elsewhere ${drainRetried}`);
  }

  // 3. bandit
  const routed = ok.filter((s) => s.lane === 'rest:route');
  const outcomes = new Map<string, string[]>();
  for (const f of run.feedback) {
    const l = outcomes.get(f.id);
    if (l === undefined) outcomes.set(f.id, [f.outcome]);
    else l.push(f.outcome);
  }
  note('feedback ids were credited more than once', [...outcomes].filter(([, o]) => o.filter((x) => x === 'credited').length > 1).map(([id]) => id));
  note('feedback ids were never credited', [...outcomes].filter(([, o]) => !o.includes('credited')).map(([id, o]) => `${id} (${o.join(', ')})`));
  note('feedback calls were not credited, nor a duplicate of one', run.feedback.filter((f) => f.outcome !== 'credited' && f.outcome !== 'duplicate').map((f) => `${f.id} → ${f.to}: ${f.outcome}`));
  note('feedback went to the replica that served the request (the run must send it elsewhere)', run.feedback.filter((f) => f.to === f.servedBy).map((f) => f.id));
  const expected = (at: number): Map<string, { pulls: number; rewards: number; sum: number }> => {
    const m = new Map<string, { pulls: number; rewards: number; sum: number }>();
    const arm = (a: string) => m.get(a) ?? (m.set(a, { pulls: 0, rewards: 0, sum: 0 }), m.get(a)!);
    for (const s of routed) if ((s.doneAt ?? Infinity) <= at) arm(run.answers.get(s.id)?.target ?? '?').pulls++;
    for (const f of run.feedback) {
      if (f.outcome !== 'credited' || f.at > at) continue;
      arm(f.arm).rewards++;
      arm(f.arm).sum += f.reward;
    }
    return m;
  };
  const before = expected(run.banditBefore.at);
  if (run.banditBefore.views.size !== run.replicas.length) problems.push(`the bandit statistics were read from ${run.banditBefore.views.size} replicas before the stops, expected ${run.replicas.length}`);
  for (const [replica, view] of run.banditBefore.views) {
    for (const arm of new Set([...before.keys(), ...view.keys()])) {
      const e = before.get(arm) ?? { pulls: 0, rewards: 0, sum: 0 };
      const v = view.get(arm) ?? { pulls: 0, rewards: 0, reward_sum: 0 };
      if (v.pulls !== e.pulls || v.rewards !== e.rewards || Math.abs(v.reward_sum - e.sum) > 1e-9) {
        problems.push(`before the stops ${replica} reports arm ${arm} pulls ${v.pulls} rewards ${v.rewards} sum ${v.reward_sum}; the load saw ${e.pulls} routed, ${e.rewards} credited, sum ${e.sum}`);
      }
    }
  }
  const after = expected(run.banditAfter.at);
  const lostPulls = routed.filter((s) => server(s) === killed.name && (s.doneAt ?? 0) >= killed.at - run.unsyncedBoundMs && (s.doneAt ?? 0) <= killed.at).length;
  const doubledPulls = run.sent.filter((s) => s.lane === 'rest:route' && inFlightAt(s, killed.at)).length;
  for (const [replica, view] of run.banditAfter.views) {
    let pullsSeen = 0;
    let pullsRouted = 0;
    for (const arm of new Set([...after.keys(), ...view.keys()])) {
      const e = after.get(arm) ?? { pulls: 0, rewards: 0, sum: 0 };
      const v = view.get(arm) ?? { pulls: 0, rewards: 0, reward_sum: 0 };
      pullsSeen += v.pulls;
      pullsRouted += e.pulls;
      if (v.rewards !== e.rewards || Math.abs(v.reward_sum - e.sum) > 1e-9) problems.push(`at the end ${replica} reports arm ${arm} rewards ${v.rewards} sum ${v.reward_sum}; ${e.rewards} were credited, sum ${e.sum}`);
      if (v.pulls < e.pulls - lostPulls || v.pulls > e.pulls + doubledPulls) {
        problems.push(`at the end ${replica} reports arm ${arm} pulls ${v.pulls}; ${e.pulls} were routed there (the SIGKILL may lose up to ${lostPulls} unsynced pulls and double up to ${doubledPulls} retried ones)`);
      }
    }
    if (pullsSeen < pullsRouted - lostPulls || pullsSeen > pullsRouted + doubledPulls) problems.push(`at the end ${replica} reports ${pullsSeen} pulls in all; ${pullsRouted} route requests were answered`);
  }

  // 4. propagation
  let worst = 0;
  run.propagation.forEach((change, i) => {
    for (const r of run.replicas) {
      const ms = change.get(r);
      if (ms === undefined) problems.push(`route change ${i + 1} never reached ${r}`);
      else {
        worst = Math.max(worst, ms);
        if (ms > run.propagationLimitMs) problems.push(`route change ${i + 1} reached ${r} after ${ms.toFixed(0)} ms (limit ${run.propagationLimitMs} ms)`);
      }
    }
  });

  const table = clusterTable(run, { ok, failed, records, unflushed, unflushedOldestMs, lostAnswers, drainRetried, before, after, lostPulls, doubledPulls, worst, excusedFailures: failed.filter(excusedFailure).length });
  return { table, problems };
}

interface Totals {
  readonly ok: readonly Sent[];
  readonly failed: readonly Sent[];
  readonly records: number;
  readonly unflushed: number;
  readonly unflushedOldestMs: number;
  readonly lostAnswers: number;
  readonly drainRetried: number;
  readonly before: ReadonlyMap<string, { pulls: number; rewards: number; sum: number }>;
  readonly after: ReadonlyMap<string, { pulls: number; rewards: number; sum: number }>;
  readonly lostPulls: number;
  readonly doubledPulls: number;
  readonly worst: number;
  readonly excusedFailures: number;
}

function clusterTable(run: ClusterRun, t: Totals): string[] {
  const width = 44;
  const cell = (v: string | number): string => String(v).padStart(10);
  const row = (label: string, values: readonly (string | number)[]): string => `${label.padEnd(width)}${values.map(cell).join('')}`;
  const byReplica = (pick: (r: string) => number): (string | number)[] => {
    const v = run.replicas.map(pick);
    return [...v, v.reduce((a, b) => a + b, 0)];
  };
  const role = (r: string): string => (r === run.killed.name ? `${r} KILL` : r === run.terminated.name ? `${r} TERM` : r);
  const served = (r: string): number => t.ok.filter((s) => run.answers.get(s.id)?.server === r).length;
  const out = [row('', [...run.replicas.map(role), 'total'])];
  out.push(row('requests sent (through the load balancer)', [...run.replicas.map(() => ''), run.sent.length]));
  out.push(row('answered 200, by the replica that answered', byReplica(served)));
  out.push(row('  of them after the SIGKILL', byReplica((r) => t.ok.filter((s) => run.answers.get(s.id)?.server === r && s.sentAt > run.killed.at).length)));
  out.push(row('failed at the load balancer', [...run.replicas.map(() => ''), t.failed.length]));
  out.push(row('  in flight at the SIGKILL, in no surviving log', [...run.replicas.map(() => ''), t.excusedFailures]));
  out.push(row('request-log records', byReplica((r) => run.logs.get(r)?.length ?? 0)));
  out.push(row('  − answers unflushed at the SIGKILL', byReplica((r) => (r === run.killed.name ? t.unflushed : 0))));
  out.push(row('  + logged, answer lost with the SIGKILL', byReplica((r) => (r === run.killed.name ? t.lostAnswers : 0))));
  out.push(row('  + 503 draining, retried elsewhere by the LB', byReplica((r) => (r === run.terminated.name ? t.drainRetried : 0))));
  out.push(
    `records ${t.records} = answered ${t.ok.length} − ${t.unflushed} + ${t.lostAnswers} + ${t.drainRetried}` +
      ` (the unflushed answers were given ≤ ${t.unflushedOldestMs.toFixed(0)} ms before the kill; bound ${run.unflushedBoundMs} ms)`,
  );
  out.push('');
  const arms = [...new Set([...t.before.keys(), ...t.after.keys()])].sort();
  const views = (snap: BanditSnapshot, arm: string, f: keyof ArmCounts): string => [...snap.views.values()].map((v) => String(v.get(arm)?.[f] ?? 0)).join('/');
  out.push(`bandit (before the stops: each replica's view ${[...run.banditBefore.views.keys()].join('/')}; at the end: ${[...run.banditAfter.views.keys()].join('/')})`);
  for (const arm of arms) {
    const b = t.before.get(arm) ?? { pulls: 0, rewards: 0, sum: 0 };
    const a = t.after.get(arm) ?? { pulls: 0, rewards: 0, sum: 0 };
    out.push(`  ${arm.padEnd(12)} before: routed ${b.pulls}, pulls ${views(run.banditBefore, arm, 'pulls')}; credited ${b.rewards}, rewards ${views(run.banditBefore, arm, 'rewards')}, sum ${views(run.banditBefore, arm, 'reward_sum')}`);
    out.push(`  ${''.padEnd(12)} end:    routed ${a.pulls}, pulls ${views(run.banditAfter, arm, 'pulls')}; credited ${a.rewards}, rewards ${views(run.banditAfter, arm, 'rewards')}, sum ${views(run.banditAfter, arm, 'reward_sum')}`);
  }
  const dup = run.feedback.filter((f) => f.outcome === 'duplicate').length;
  const rewarded = new Set(run.feedback.map((f) => f.id));
  const unrewarded = t.ok.filter((s) => s.lane === 'rest:route' && !rewarded.has(s.id)).length;
  out.push(`  feedback calls ${run.feedback.length}, each to another replica than served: ${rewarded.size} ids credited once, ${dup} second calls answered duplicate`);
  out.push(`  (${unrewarded} route answers got no reward: given by the last replica standing, with no other replica to send it to)`);
  out.push(`  the SIGKILL may lose ≤ ${t.lostPulls} unsynced pulls (answered ≤ ${run.unsyncedBoundMs} ms before it) and double ≤ ${t.doubledPulls} (in flight at it)`);
  out.push('');
  out.push(
    `route propagation (ms to each of ${run.replicas.join('/')}): ${run.propagation.map((c) => run.replicas.map((r) => (c.get(r) ?? NaN).toFixed(0)).join('/')).join(', ')}; worst ${t.worst.toFixed(0)} ms (limit ${run.propagationLimitMs})`,
  );
  return out;
}
