/**
 * How the bench pairs switchyard with its peers and checks the aims against them, and which
 * cases run when the Python peers' venv (.venv-bench) is missing.
 */
import { describe, expect, it } from 'vitest';
import { planVenvCases } from '../../bench/lib/python-peers.js';
import { compare, comparisonAims, type CellSummary } from '../../bench/lib/report.js';
import { COMPARISONS } from '../../bench/lib/suite.js';

function cell(caseId: string, connections: number, reqPerSec: number, p99Ms: number): CellSummary {
  return {
    caseId,
    connections,
    runs: [],
    median: { reqPerSec, p50Ms: p99Ms / 2, p99Ms, meanBatchSize: null, redisCommandsPerRequest: null },
    totals: { ok2xx: 0, errors: 0, timeouts: 0, non2xx: 0, batches: 0, reasons: {} },
  };
}

const aimsFor = (cells: CellSummary[], title: string): { description: string; value: number; met: boolean }[] =>
  comparisonAims(compare(cells, COMPARISONS), COMPARISONS)
    .filter((a) => a.description.startsWith(`${title}:`))
    .map(({ description, value, met }) => ({ description, value, met }));

describe('switchyard against the peers', () => {
  it('MLServer and KServe: ≥ 10× req/s at a lower p99, checked at concurrency 64 (not 256)', () => {
    const cells = [cell('batching-on', 64, 20_000, 8), cell('batching-on', 256, 25_000, 20), cell('mlserver', 64, 1_900, 40), cell('mlserver', 256, 100, 1), cell('kserve', 64, 2_100, 30)];
    expect(aimsFor(cells, 'switchyard REST vs MLServer')).toEqual([
      { description: 'switchyard REST vs MLServer: req/s with ÷ without at concurrency 64', value: 20_000 / 1_900, met: true },
      { description: 'switchyard REST vs MLServer: p99 without ÷ p99 with at concurrency 64 (above 1: lower p99 with)', value: 5, met: true },
    ]);
    expect(aimsFor(cells, 'switchyard REST vs KServe').map((a) => a.met)).toEqual([false, true]);
  });

  it('the uWS peer: ≥ 2× on tabular and ≥ 5× on heavy at concurrency 256, no p99 aim', () => {
    const cells = [cell('batching-on', 256, 30_000, 10), cell('peer-uws', 256, 14_000, 5), cell('heavy', 256, 4_000, 60), cell('heavy-peer-uws', 256, 1_000, 300)];
    expect(aimsFor(cells, 'switchyard REST vs the uWS inline peer')).toEqual([{ description: 'switchyard REST vs the uWS inline peer: req/s with ÷ without at concurrency 256', value: 30_000 / 14_000, met: true }]);
    expect(aimsFor(cells, 'heavy model: switchyard vs the uWS inline peer')).toEqual([{ description: 'heavy model: switchyard vs the uWS inline peer: req/s with ÷ without at concurrency 256', value: 4, met: false }]);
  });

  it('no aim when the aim concurrency was not measured', () => {
    expect(aimsFor([cell('batching-on', 256, 20_000, 8), cell('mlserver', 256, 1_000, 40)], 'switchyard REST vs MLServer')).toEqual([]);
  });
});

describe('the Python peers without their venv', () => {
  const need = new Set(['mlserver', 'kserve']);
  const problem = '.venv-bench is missing: run `bash scripts/bench-venv.sh`';

  it('the default case list leaves them out and says why', () => {
    expect(planVenvCases(['peer', 'mlserver', 'kserve', 'batching-on'], need, false, problem)).toEqual({ run: ['peer', 'batching-on'], skipped: ['mlserver', 'kserve'], reason: problem });
  });

  it('naming them in --cases stops the bench with the advice', () => {
    expect(() => planVenvCases(['peer', 'kserve'], need, true, problem)).toThrow('kserve: .venv-bench is missing: run `bash scripts/bench-venv.sh`');
  });

  it('with the venv, or without Python peers asked for, every case runs', () => {
    expect(planVenvCases(['peer', 'mlserver'], need, true, null)).toEqual({ run: ['peer', 'mlserver'], skipped: [], reason: null });
    expect(planVenvCases(['peer'], need, true, problem)).toEqual({ run: ['peer'], skipped: [], reason: null });
  });
});
