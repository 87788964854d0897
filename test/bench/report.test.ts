import { describe, expect, it } from 'vitest';
import { accountCpu, type CpuProbe } from '../../bench/lib/accounting.js';
import { comparisonAims, computeAims, computeSummary, resultsTable, summarize, type BenchReport, type CellSummary, type ComparisonRow, type RunRecord } from '../../bench/lib/report.js';

function cell(caseId: string, connections: number, reqPerSec: number): CellSummary {
  return {
    caseId,
    connections,
    runs: [],
    median: { reqPerSec, p50Ms: 1, p99Ms: 2, meanBatchSize: null, redisCommandsPerRequest: null },
    totals: { ok2xx: 0, errors: 0, timeouts: 0, non2xx: 0, batches: 0, reasons: {} },
  };
}

describe('bench report', () => {
  it('compute ceiling: medians per batch size over the rounds, the best batch, and the case against it', () => {
    const rounds = [
      { round: 1, results: [{ batch: 1, runs: 10, rowsPerSec: 1000, msPerRun: 1 }, { batch: 64, runs: 10, rowsPerSec: 8000, msPerRun: 8 }] },
      { round: 2, results: [{ batch: 1, runs: 10, rowsPerSec: 1200, msPerRun: 0.9 }, { batch: 64, runs: 10, rowsPerSec: 9000, msPerRun: 7 }] },
      { round: 3, results: [{ batch: 1, runs: 10, rowsPerSec: 1100, msPerRun: 0.95 }, { batch: 64, runs: 10, rowsPerSec: 8500, msPerRun: 7.5 }] },
    ];
    const s = computeSummary('raw-ort', 'heavy', rounds, [cell('heavy', 1, 500), cell('heavy', 256, 6800), cell('other', 256, 1)], 'heavy');
    expect(s.median).toEqual([
      { batch: 1, rowsPerSec: 1100, msPerRun: 0.95 },
      { batch: 64, rowsPerSec: 8500, msPerRun: 7.5 },
    ]);
    expect(s.best).toEqual({ batch: 64, rowsPerSec: 8500 });
    expect(s.against.ratios).toEqual([
      { connections: 1, reqPerSec: 500, ratio: 500 / 8500 },
      { connections: 256, reqPerSec: 6800, ratio: 0.8 },
    ]);
    expect(computeAims(s, 0.8)).toEqual([expect.objectContaining({ value: 0.8, target: 0.8, met: true })]);
    expect(computeAims(computeSummary('raw-ort', 'heavy', rounds, [cell('heavy', 256, 6799)], 'heavy'), 0.8)[0].met).toBe(false);
  });

  it('a comparison aiming at a lower p99 is met only when the p99 with the feature is strictly lower', () => {
    const row = (withP99Ms: number): ComparisonRow => ({
      title: 'peer',
      connections: 256,
      withReqPerSec: 600,
      withoutReqPerSec: 100,
      ratio: 6,
      withP50Ms: 1,
      withoutP50Ms: 1,
      withP99Ms,
      withoutP99Ms: 20,
    });
    const def = [{ title: 'peer', with: 'a', without: 'b', aim: 5, aimLowerP99: true }];
    expect(comparisonAims([row(10)], def).map((a) => a.met)).toEqual([true, true]);
    expect(comparisonAims([row(20)], def).map((a) => a.met)).toEqual([true, false]);
  });

  it('CPU per request: medians over the runs, and ⚠ where a run saturated the generator or the machine', () => {
    const probe = (at: number, main: number, worker: number, busy: number): CpuProbe => ({
      at,
      threads: [
        { pid: 7, tid: 7, comm: 'node', ppid: 1, seconds: main },
        { pid: 7, tid: 8, comm: 'node', ppid: 1, seconds: worker },
      ],
      machine: { busy, total: (at / 1000) * 2 },
    });
    const run = (round: number, generatorSeconds: number): RunRecord => ({
      connections: 64,
      durationS: 1,
      reqPerSec: 10_000,
      ok2xx: 10_000,
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      latencyMs: { p50: 1, p90: 2, p99: 3, max: 4, mean: 1 },
      statusCodes: {},
      round,
      batching: null,
      redisCommandsPerRequest: null,
      serverFailed: null,
      cpu: accountCpu(7, probe(0, 10, 5, 0), probe(1000, 10.5, 5.2, 1.2), { name: 'wrk -t1', threads: 1, seconds: generatorSeconds, wallSeconds: 1, busiestThread: null }, 10_000, 2),
    });
    const c = summarize('ceiling', 64, [run(1, 0.5), run(2, 0.95), run(3, 0.6)]);
    expect(c.median.mainUsPerRequest).toBeCloseTo(50, 6);
    expect(c.median.otherUsPerRequest).toBeCloseTo(20, 6);
    expect(c.median.generatorUsPerRequest).toBeCloseTo(60, 6);
    expect(c.median.machineBusy).toBeCloseTo(0.6, 6);
    expect(c.generator).toBe('wrk -t1');
    expect([c.totals.generatorSaturated, c.totals.machineSaturated]).toEqual([1, 0]);
    const report = { cases: [{ id: 'ceiling', title: 'ceiling', description: '', ceiling: null, facts: {} }], cells: [c] } as unknown as BenchReport;
    const row = resultsTable(report).split('\n')[2];
    expect(row).toContain('| 50 / 20 / 60 | wrk -t1 60 % ⚠ | 60 % |');
    // a cell that has no CPU numbers beside one that has: dashes
    const none: CellSummary = { ...cell('ceiling', 1, 1000), generator: null };
    expect(resultsTable({ ...report, cells: [c, none] }).split('\n')[3]).toContain('| — / — / — | — | — |');
    // a results file written before CPU was read: its old columns
    const old = resultsTable({ ...report, cells: [cell('ceiling', 64, 1000)] });
    expect(old.split('\n')[0]).toBe('| case | concurrency | req/s | p50 ms | p99 ms | errors / non-2xx | mean batch | dispatch reasons | Redis HMGET/req |');
  });
});
