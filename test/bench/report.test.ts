import { describe, expect, it } from 'vitest';
import { comparisonAims, computeAims, computeSummary, type CellSummary, type ComparisonRow } from '../../bench/lib/report.js';

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
});
