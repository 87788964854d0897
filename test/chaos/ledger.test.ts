/** The chaos run's reconciliation fails on each count that does not add up (run.ts relies on it). */
import { describe, expect, it } from 'vitest';
import { metricKey, reconcile, type ChaosRun, type Sent } from './ledger.js';

function sent(id: string, over: Partial<Sent> = {}): Sent {
  return { id, lane: 'rest:model', sentAt: 10, doneAt: 11, status: 200, code: 'success', connectionClose: false, failure: null, ...over };
}

/** A sound run: 200s before the scrape at t=50, a worker death at t=20, a draining 503 and a refused connection after SIGTERM at t=60. */
type Run = { -readonly [K in keyof ChaosRun]: ChaosRun[K] } & { sent: Sent[]; logged: { request_id: string; status: string }[] };

function soundRun(): Run {
  const list = [
    sent('a'),
    sent('b', { lane: 'rest:route' }),
    sent('c', { lane: 'grpc:model' }),
    sent('d', { sentAt: 19, doneAt: 21, status: 503, code: 'SY_ERR_WORKER_DIED' }),
    sent('e', { sentAt: 61, doneAt: 62, status: 503, code: 'SY_ERR_DRAINING', connectionClose: true }),
    sent('f', { sentAt: 63, doneAt: 64, status: null, code: null, failure: 'ECONNREFUSED: connect ECONNREFUSED' }),
  ];
  return {
    sent: list,
    reload: { from: 5, to: 8 },
    workers: { from: 20, to: 20.5 },
    kills: 1,
    maxBatch: 4,
    redis: { from: 30, to: 35, restartedAt: 32 },
    sigtermAt: 60,
    logged: list.filter((s) => s.status !== null).map((s) => ({ request_id: s.id, status: s.code! })),
    metrics: { at: 50, byStatus: new Map() },
  };
}

/** requests_total as a correct gateway would have it: the answers before the scrape (most tests check something else). */
function countedRight(run: Run): Run {
  const byStatus = new Map<string, number>();
  for (const s of run.sent) if (s.status !== null && s.doneAt! <= run.metrics.at) byStatus.set(metricKey(s), (byStatus.get(metricKey(s)) ?? 0) + 1);
  run.metrics = { at: run.metrics.at, byStatus };
  return run;
}

const problems = (run: Run): string[] => reconcile(countedRight(run)).problems;

describe('reconcile', () => {
  it('passes a run whose counts add up, and prints every lane', () => {
    const r = reconcile(countedRight(soundRun()));
    expect(r.problems).toEqual([]);
    expect(r.table[0]).toMatch(/rest:model\s+rest:route\s+grpc:model\s+total/);
    expect(r.table.find((l) => l.startsWith('sent'))).toMatch(/\s6$/);
  });

  it('fails a request with neither an answer nor a reason', () => {
    const run = soundRun();
    run.sent.push(sent('g', { sentAt: 70, doneAt: null, status: null, code: null }));
    expect(problems(run)).toEqual([expect.stringMatching(/^1 requests got neither an answer nor a client error: g/)]);
  });

  it('fails a client error before SIGTERM', () => {
    const run = soundRun();
    run.sent.push(sent('g', { status: null, code: null, failure: 'ECONNRESET: read ECONNRESET' }));
    expect(problems(run)).toEqual([expect.stringMatching(/failed at the client before SIGTERM: g .*ECONNRESET/)]);
  });

  it('fails an answer missing from the request log, logged twice, or logged with another status', () => {
    const missing = soundRun();
    missing.logged.splice(0, 1);
    expect(problems(missing)).toEqual([expect.stringMatching(/missing from the request log: a/)]);
    const twice = soundRun();
    twice.logged.push({ request_id: 'b', status: 'success' });
    expect(problems(twice)).toEqual([expect.stringMatching(/in the request log more than once: b/)]);
    const other = soundRun();
    other.logged[2] = { request_id: 'c', status: 'SY_ERR_INTERNAL' };
    expect(problems(other)).toEqual([expect.stringMatching(/logged with another status .* c .* logged SY_ERR_INTERNAL/)]);
  });

  it('fails a record for a request whose client got no answer, or one the load never sent', () => {
    const lost = soundRun();
    lost.logged.push({ request_id: 'f', status: 'SY_ERR_DRAINING' });
    expect(problems(lost)).toEqual([expect.stringMatching(/logged although their client got no answer/)]);
    const stranger = soundRun();
    stranger.logged.push({ request_id: 'zz', status: 'success' });
    expect(problems(stranger)).toEqual([expect.stringMatching(/ids the load never sent: zz/)]);
  });

  it('fails a route 404, and any error outside its window', () => {
    const route404 = soundRun();
    route404.sent[1] = sent('b', { lane: 'rest:route', status: 404, code: 'SY_ERR_MODEL_NOT_FOUND' });
    route404.logged[1] = { request_id: 'b', status: 'SY_ERR_MODEL_NOT_FOUND' };
    expect(problems(route404)).toEqual([expect.stringMatching(/route requests were answered 404: b/)]);

    const late = soundRun();
    late.sent[3] = sent('d', { sentAt: 40, doneAt: 41, status: 503, code: 'SY_ERR_WORKER_DIED' });
    expect(problems(late)).toEqual([expect.stringMatching(/worker-death 503s came outside the worker-kill window: d/)]);

    const early = soundRun();
    early.sent[4] = sent('e', { sentAt: 40, doneAt: 41, status: 503, code: 'SY_ERR_DRAINING', connectionClose: true });
    expect(problems(early)).toEqual([expect.stringMatching(/draining 503s came before SIGTERM: e/)]);

    const kept = soundRun();
    kept.sent[4].connectionClose = false;
    expect(problems(kept)).toEqual([expect.stringMatching(/did not carry Connection: close: e/)]);

    const other = soundRun();
    other.sent[0] = sent('a', { status: 500, code: 'SY_ERR_INTERNAL' });
    other.logged[0] = { request_id: 'a', status: 'SY_ERR_INTERNAL' };
    expect(problems(other)).toEqual([expect.stringMatching(/answered with an error outside the windows that allow one: a .*500 SY_ERR_INTERNAL/)]);
  });

  it('fails more worker-death 503s than the killed workers were running, or kills that killed nothing', () => {
    const many = soundRun();
    for (const id of ['d2', 'd3', 'd4', 'd5']) {
      many.sent.push(sent(id, { sentAt: 19, doneAt: 21, status: 503, code: 'SY_ERR_WORKER_DIED' }));
      many.logged.push({ request_id: id, status: 'SY_ERR_WORKER_DIED' });
    }
    expect(problems(many)).toEqual(['5 worker-death 503s for 1 killed workers: one death fails at most one batch of 4']);

    const none = soundRun();
    none.sent[3] = sent('d');
    none.logged[3] = { request_id: 'd', status: 'success' };
    expect(problems(none)).toEqual([expect.stringMatching(/no request saw a worker-death 503/)]);
  });

  it('fails requests_total that differs from the answers before the scrape, and a scrape under load', () => {
    const off = countedRight(soundRun());
    off.metrics = { at: 50, byStatus: new Map([['rest,success', 2], ['grpc,success', 2], ['rest,SY_ERR_WORKER_DIED', 1]]) };
    expect(reconcile(off).problems).toEqual(['switchyard_requests_total{protocol="grpc",status="success"} is 2 at the scrape, but 1 such answers had arrived']);
    const busy = soundRun();
    busy.sent.push(sent('g', { sentAt: 49, doneAt: 51 }));
    busy.logged.push({ request_id: 'g', status: 'success' });
    expect(problems(busy)).toEqual([expect.stringMatching(/in flight at the metrics scrape.*: g/)]);
  });
});
