/**
 * The chaos run's books: one entry per request the load client sent, what came of it, and
 * the checks that every count adds up (see reconcile()). Pure: the runner (run.ts) fills it
 * in, ledger.test.ts proves each check fails when its count does not add up.
 */

/** What the load sends to: the plain model over REST or gRPC, or the runtime route over REST. */
export type Lane = 'rest:model' | 'rest:route' | 'grpc:model';
export const LANES: readonly Lane[] = ['rest:model', 'rest:route', 'grpc:model'];

/** One request, as the client saw it. Times are performance.now() ms of the runner. */
export interface Sent {
  readonly id: string;
  readonly lane: Lane;
  readonly sentAt: number;
  /** when the answer or the failure came; null while in flight */
  doneAt: number | null;
  /** the HTTP status (gRPC: 200 for OK, else the HTTP status of the switchyard error code); null when no answer came */
  status: number | null;
  /** 'success' or the switchyard error code (x-switchyard-error / switchyard-error-code), as the request log writes it */
  code: string | null;
  /** REST: the answer carried `Connection: close` */
  connectionClose: boolean;
  /** why no answer came (the client's error code and message); null when answered */
  failure: string | null;
}

/** A span of the run in which some failures are expected, performance.now() ms. */
export interface Window {
  readonly from: number;
  readonly to: number;
}

export interface ChaosRun {
  readonly sent: readonly Sent[];
  /** model reloads through the admin API */
  readonly reload: Window;
  /** from the first kill file written to the last one a worker took */
  readonly workers: Window;
  /** how many worker threads were killed */
  readonly kills: number;
  /** largest batch one worker runs (a death fails at most one batch) */
  readonly maxBatch: number;
  /** Redis SIGKILLed → the route found back in the restarted, empty Redis */
  readonly redis: Window & { readonly restartedAt: number };
  /** when SIGTERM was sent to the gateway */
  readonly sigtermAt: number;
  /** request_id and status of every request-log record, in file order */
  readonly logged: readonly { readonly request_id: string; readonly status: string }[];
  /** switchyard_requests_total summed by its protocol and status labels (key "rest,success"), scraped with the load paused */
  readonly metrics: { readonly at: number; readonly byStatus: ReadonlyMap<string, number> };
}

/** Statuses answered only in their window; anything else but 200 is a problem. */
export const WORKER_DIED = 'SY_ERR_WORKER_DIED';
export const DRAINING = 'SY_ERR_DRAINING';

export interface Reconciled {
  /** the table, one line per row */
  readonly table: string[];
  /** every count that did not add up, each a sentence; empty when the run is sound */
  readonly problems: string[];
}

const overlaps = (s: Sent, w: Window): boolean => s.sentAt <= w.to && (s.doneAt ?? Infinity) >= w.from;

/**
 * Checks the run:
 *  1. every sent request was answered or failed at the client with a reason, never neither;
 *  2. client failures (connection errors) only after SIGTERM: before it, the gateway must answer;
 *  3. every answered request is in the request log exactly once, with the status it answered;
 *     nothing is logged for a request whose client saw no answer (an answer lost on the way);
 *  4. no 4xx, and no 5xx but: 503 SY_ERR_WORKER_DIED for requests in flight while a worker
 *     was killed (at most kills × maxBatch of them: a death fails the one batch it was
 *     running), and 503 SY_ERR_DRAINING after SIGTERM, each with `Connection: close` over REST;
 *     in particular no route request 404s, before, while or after Redis restarted empty;
 *  5. switchyard_requests_total, scraped while no request was in flight, equals the answers
 *     received before the scrape, status by status.
 */
export function reconcile(run: ChaosRun): Reconciled {
  const problems: string[] = [];
  const describeSent = (s: Sent): string => {
    const during = (
      [
        ['reload', run.reload],
        ['worker kills', run.workers],
        ['Redis down or empty', run.redis],
        ['draining', { from: run.sigtermAt, to: Infinity }],
      ] as const
    )
      .filter(([, w]) => overlaps(s, w))
      .map(([name]) => name);
    const outcome = s.status === null ? `failed (${s.failure ?? 'no outcome'})` : `${s.status} ${s.code ?? ''}`.trimEnd();
    return `${s.id} ${s.lane} ${outcome}${during.length > 0 ? ` during ${during.join(', ')}` : ''}`;
  };
  const note = (what: string, list: readonly Sent[], describe: (s: Sent) => string = describeSent): void => {
    if (list.length === 0) return;
    const shown = list.slice(0, 5).map(describe).join('; ');
    problems.push(`${list.length} ${what}: ${shown}${list.length > 5 ? '; …' : ''}`);
  };
  const answered = run.sent.filter((s) => s.status !== null);
  const failed = run.sent.filter((s) => s.status === null && s.failure !== null);

  // 1. sent = answered + failed
  note('requests got neither an answer nor a client error', run.sent.filter((s) => s.status === null && s.failure === null));
  const ids = new Map<string, number>();
  for (const s of run.sent) ids.set(s.id, (ids.get(s.id) ?? 0) + 1);
  const reused = [...ids].filter(([, n]) => n > 1).map(([id]) => id);
  if (reused.length > 0) problems.push(`${reused.length} request ids were sent twice (the load client's bug): ${reused.slice(0, 5).join(', ')}`);

  // 2. failures only once the gateway was told to stop
  note('requests failed at the client before SIGTERM', failed.filter((s) => s.sentAt < run.sigtermAt));

  // 3. answered ⇔ logged, exactly once, same status
  const log = new Map<string, string[]>();
  for (const r of run.logged) {
    const statuses = log.get(r.request_id);
    if (statuses === undefined) log.set(r.request_id, [r.status]);
    else statuses.push(r.status);
  }
  note('answered requests are missing from the request log', answered.filter((s) => !log.has(s.id)));
  note('answered requests are in the request log more than once', answered.filter((s) => (log.get(s.id)?.length ?? 0) > 1));
  note(
    'answered requests are logged with another status than they answered',
    answered.filter((s) => log.get(s.id)?.length === 1 && log.get(s.id)![0] !== s.code),
    (s) => `${describeSent(s)}, logged ${log.get(s.id)![0]}`,
  );
  note('requests are logged although their client got no answer (an answer lost on the way)', failed.filter((s) => log.has(s.id)));
  const strangers = [...log.keys()].filter((id) => !ids.has(id));
  if (strangers.length > 0) problems.push(`${strangers.length} request-log records have ids the load never sent: ${strangers.slice(0, 5).join(', ')}`);

  // 4. statuses
  const died = answered.filter((s) => s.code === WORKER_DIED);
  const draining = answered.filter((s) => s.code === DRAINING);
  note('route requests were answered 404', answered.filter((s) => s.lane === 'rest:route' && s.status === 404));
  note(
    'requests were answered with an error outside the windows that allow one',
    answered.filter((s) => s.status !== 200 && s.status !== 404 && s.code !== WORKER_DIED && s.code !== DRAINING),
  );
  note('requests were answered 404', answered.filter((s) => s.status === 404 && s.lane !== 'rest:route'));
  note('worker-death 503s came outside the worker-kill window', died.filter((s) => !overlaps(s, run.workers)));
  if (died.length > run.kills * run.maxBatch) problems.push(`${died.length} worker-death 503s for ${run.kills} killed workers: one death fails at most one batch of ${run.maxBatch}`);
  if (run.kills > 0 && died.length === 0) problems.push(`${run.kills} workers were killed under load, but no request saw a worker-death 503 (the kills did not happen?)`);
  note('draining 503s came before SIGTERM', draining.filter((s) => (s.doneAt ?? 0) < run.sigtermAt));
  note('draining 503s over REST did not carry Connection: close', draining.filter((s) => s.lane !== 'grpc:model' && !s.connectionClose));
  note('answers had a status that does not match their code', answered.filter((s) => (s.status === 200) !== (s.code === 'success')));

  // 5. the metrics, at the scrape, against the answers received before it
  const before = answered.filter((s) => (s.doneAt ?? Infinity) <= run.metrics.at);
  const inFlight = run.sent.filter((s) => s.sentAt <= run.metrics.at && (s.doneAt ?? Infinity) > run.metrics.at);
  note('requests were in flight at the metrics scrape (the load was not paused)', inFlight);
  const answeredByStatus = countBy(before, metricKey);
  for (const key of new Set([...answeredByStatus.keys(), ...run.metrics.byStatus.keys()])) {
    const a = answeredByStatus.get(key) ?? 0;
    const m = run.metrics.byStatus.get(key) ?? 0;
    const [protocol, status] = key.split(',');
    if (a !== m) problems.push(`switchyard_requests_total{protocol="${protocol}",status="${status}"} is ${m} at the scrape, but ${a} such answers had arrived`);
  }

  return { table: table(run, answered, failed, log), problems };
}

/** The key of an answer in ChaosRun.metrics: its protocol and status labels. */
export function metricKey(s: Sent): string {
  return `${s.lane.slice(0, s.lane.indexOf(':'))},${s.code ?? ''}`;
}

function countBy<T>(list: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of list) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return m;
}

function table(run: ChaosRun, answered: readonly Sent[], failed: readonly Sent[], log: ReadonlyMap<string, string[]>): string[] {
  const rows: [string, (s: Sent) => boolean][] = [
    ['sent', () => true],
    ['answered 2xx', (s) => s.status !== null && s.status < 300],
    ['answered 4xx', (s) => s.status !== null && s.status >= 400 && s.status < 500],
    ['answered 5xx worker died', (s) => s.code === WORKER_DIED],
    ['answered 5xx draining', (s) => s.code === DRAINING],
    ['answered 5xx other', (s) => s.status !== null && s.status >= 500 && s.code !== WORKER_DIED && s.code !== DRAINING],
    ['failed at the client', (s) => s.status === null],
    ['logged (request log)', (s) => log.has(s.id)],
    ['answered before the scrape', (s) => s.status !== null && (s.doneAt ?? Infinity) <= run.metrics.at],
  ];
  const cols = [...LANES, 'total'] as const;
  const width = 28;
  const cell = (v: string | number): string => String(v).padStart(12);
  const out = [`${''.padEnd(width)}${cols.map(cell).join('')}`];
  for (const [label, pick] of rows) {
    const counts = LANES.map((lane) => run.sent.filter((s) => s.lane === lane && pick(s)).length);
    out.push(`${label.padEnd(width)}${[...counts, counts.reduce((a, b) => a + b, 0)].map(cell).join('')}`);
  }
  const metricsTotal = [...run.metrics.byStatus.values()].reduce((a, b) => a + b, 0);
  const metricsLine = [...run.metrics.byStatus].map(([k, v]) => `${k}=${v}`).join(' ');
  out.push(`${'requests_total at the scrape'.padEnd(width)}${cell('')}${cell('')}${cell('')}${cell(metricsTotal)}   (${metricsLine})`);
  const reasons = countBy(failed, (s) => s.failure ?? 'no outcome');
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) out.push(`  failed: ${n} × ${reason}`);
  const after = answered.filter((s) => s.lane === 'rest:route' && s.sentAt >= run.redis.restartedAt);
  out.push(`route requests sent after Redis restarted empty: ${after.length}, of them 404: ${after.filter((s) => s.status === 404).length}`);
  out.push(
    `accepted: 503 worker died only for requests in flight during the ${run.kills} kills (at most one batch of ${run.maxBatch} each); ` +
      '503 draining only after SIGTERM, with Connection: close over REST; client failures only after SIGTERM, for requests the gateway never logged',
  );
  return out;
}
