/** The cluster run's books fail on each count that does not add up (run.ts relies on it). */
import { describe, expect, it } from 'vitest';
import type { Sent } from '../chaos/ledger.js';
import { reconcileCluster, type Answer, type ArmCounts, type ClusterRun, type Feedback, type LogRecord } from './ledger.js';

function sent(id: string, over: Partial<Sent> = {}): Sent {
  return { id, lane: 'rest:route', sentAt: 10, doneAt: 11, status: 200, code: 'success', connectionClose: false, failure: null, ...over };
}

type Run = { -readonly [K in keyof ClusterRun]: ClusterRun[K] } & { sent: Sent[]; feedback: Feedback[] };

const arms = (pulls: number, rewards: number, sum: number): Map<string, ArmCounts> => new Map([['m:1', { pulls, rewards, reward_sum: sum }]]);

/**
 * A sound run: g3 SIGKILLed at t=100 (its answer at t=99 unflushed), g2 SIGTERMed at t=200
 * (a draining 503 the balancer retried on g1), one request in flight at the kill failed.
 */
function soundRun(): Run {
  const list = [
    sent('a'),
    sent('b', { sentAt: 20, doneAt: 21 }),
    sent('c', { sentAt: 98, doneAt: 99 }),
    sent('d', { sentAt: 99.5, doneAt: 101, status: 502, code: null }),
    sent('e', { sentAt: 201, doneAt: 203 }),
  ];
  const answers = new Map<string, Answer>([
    ['a', { server: 'g1', target: 'm:1' }],
    ['b', { server: 'g2', target: 'm:1' }],
    ['c', { server: 'g3', target: 'm:1' }],
    ['e', { server: 'g1', target: 'm:1' }],
  ]);
  const rec = (id: string, status = 'success'): LogRecord => ({ request_id: id, status });
  const feedback: Feedback[] = [
    { id: 'a', arm: 'm:1', reward: 1, to: 'g2', servedBy: 'g1', outcome: 'credited', at: 12 },
    { id: 'a', arm: 'm:1', reward: 1, to: 'g3', servedBy: 'g1', outcome: 'duplicate', at: 13 },
    { id: 'b', arm: 'm:1', reward: 0, to: 'g3', servedBy: 'g2', outcome: 'credited', at: 22 },
  ];
  return {
    replicas: ['g1', 'g2', 'g3'],
    sent: list,
    answers,
    logs: new Map([
      ['g1', [rec('a'), rec('e')]],
      ['g2', [rec('b'), rec('e', 'SY_ERR_DRAINING')]],
      ['g3', []],
    ]),
    killed: { name: 'g3', at: 100 },
    terminated: { name: 'g2', at: 200 },
    unflushedBoundMs: 5,
    unsyncedBoundMs: 5,
    detectMs: 3,
    feedback,
    banditBefore: { at: 50, views: new Map(['g1', 'g2', 'g3'].map((r) => [r, arms(2, 2, 1)])) },
    // c's pull was lost with g3 (answered 1 ms before the kill, within the bound)
    banditAfter: { at: 300, views: new Map([['g1', arms(3, 2, 1)]]) },
    propagation: [new Map([['g1', 10], ['g2', 12], ['g3', 30]])],
    propagationLimitMs: 1000,
  };
}

describe('reconcileCluster', () => {
  it('passes a sound run and prints its table', () => {
    const { problems, table } = reconcileCluster(soundRun());
    expect(problems).toEqual([]);
    expect(table.join('\n')).toMatch(/records 4 = answered 4 − 1 \+ 0 \+ 1/);
  });

  it('fails a request failed at the balancer outside the SIGKILL', () => {
    const run = soundRun();
    run.sent.push(sent('x', { sentAt: 150, doneAt: 151, status: 503, code: null }));
    expect(reconcileCluster(run).problems.join('\n')).toMatch(/1 requests failed at the load balancer other than/);
  });

  it('fails a failed request that a surviving replica logged (it ran to the end)', () => {
    const run = soundRun();
    run.logs = new Map([...run.logs, ['g1', [...run.logs.get('g1')!, { request_id: 'd', status: 'success' }]]]);
    expect(reconcileCluster(run).problems.join('\n')).toMatch(/failed at the load balancer/);
  });

  it('fails an answer missing from the log of a replica that was not killed', () => {
    const run = soundRun();
    run.logs = new Map([...run.logs, ['g1', [{ request_id: 'e', status: 'success' }]]]);
    expect(reconcileCluster(run).problems.join('\n')).toMatch(/answers of g1 are missing from its log/);
  });

  it('fails a killed replica\'s missing record older than the unflushed bound', () => {
    const run = soundRun();
    run.unflushedBoundMs = 0.5;
    expect(reconcileCluster(run).problems.join('\n')).toMatch(/missing from its log although given more than 0.5 ms before the kill/);
  });

  it('fails an id credited twice, an unknown id, and feedback to the serving replica', () => {
    const run = soundRun();
    run.feedback.push({ id: 'a', arm: 'm:1', reward: 1, to: 'g1', servedBy: 'g1', outcome: 'credited', at: 14 });
    run.feedback.push({ id: 'e', arm: 'm:1', reward: 1, to: 'g2', servedBy: 'g1', outcome: 'unknown', at: 204 });
    const problems = reconcileCluster(run).problems.join('\n');
    expect(problems).toMatch(/credited more than once: a/);
    expect(problems).toMatch(/never credited: e \(unknown\)/);
    expect(problems).toMatch(/went to the replica that served the request/);
  });

  it('fails replicas that disagree on the arms before the stops, or pulls beyond what the SIGKILL explains', () => {
    const run = soundRun();
    run.banditBefore = { at: 50, views: new Map([...run.banditBefore.views, ['g3', arms(1, 2, 1)]]) };
    run.banditAfter = { at: 300, views: new Map([['g1', arms(1, 2, 1)]]) };
    const problems = reconcileCluster(run).problems.join('\n');
    expect(problems).toMatch(/before the stops g3 reports arm m:1 pulls 1/);
    expect(problems).toMatch(/at the end g1 reports arm m:1 pulls 1; 4 were routed there/);
  });

  it('fails a route change slower than the limit, or one a replica never saw', () => {
    const run = soundRun();
    run.propagation = [new Map([['g1', 10], ['g2', 1200]])];
    const problems = reconcileCluster(run).problems.join('\n');
    expect(problems).toMatch(/reached g2 after 1200 ms/);
    expect(problems).toMatch(/never reached g3/);
  });
});
