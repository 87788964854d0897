/**
 * The perf_analyzer bench's parsing and arithmetic: perf_analyzer's CSV and stdout as 2.51
 * writes them (captured from runs against switchyard), its ranges, /proc stat fields, and the
 * medians and ratios of the cross-check.
 */
import { describe, expect, it } from 'vitest';
import { childrenCpuSeconds, statFields } from '../../bench/lib/cpu.js';
import { crossCheck, mergeNotes, summarizeTool, type LevelResult, type ToolRun } from '../../bench/lib/cross-check.js';
import { StdoutNotes, parsePerfCsv, perfRange } from '../../bench/lib/perf-analyzer.js';

const CONCURRENCY_CSV = `Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency
1,2970.94,33,123,0,3,170,1,0,304,372,438,964
3,5659.62,31,212,85,8,185,2,0,475,642,751,1764
`;

const RATE_VERBOSE_CSV = `Request Rate,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency,Avg latency,request/response,response wait
2000,1999.84,32,171,26,5,215,2,0,329,690,1040,1915,453,32,414
`;

describe('perf_analyzer CSV', () => {
  it('reads a concurrency report by column name, times in µs', () => {
    const { mode, rows } = parsePerfCsv(CONCURRENCY_CSV);
    expect(mode).toBe('concurrency');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ value: 3, inferPerSec: 5659.62, p50Us: 475, p90Us: 642, p99Us: 1764, serverQueueUs: 85, serverComputeInferUs: 185 });
    // no --verbose-csv: no average column
    expect(rows[0].avgUs).toBeNaN();
  });

  it('reads a request-rate report with the verbose columns', () => {
    const { mode, rows } = parsePerfCsv(RATE_VERBOSE_CSV);
    expect(mode).toBe('rate');
    expect(rows[0]).toMatchObject({ value: 2000, inferPerSec: 1999.84, avgUs: 453, p99Us: 1915 });
  });

  it('refuses a file that is not perf_analyzer’s report, saying what it found', () => {
    expect(() => parsePerfCsv('')).toThrow(/empty/);
    expect(() => parsePerfCsv('Batch,Foo\n1,2\n')).toThrow(/starts with "Batch"/);
    expect(() => parsePerfCsv('Concurrency,Client Send\n1,2\n')).toThrow(/no "Inferences\/Second" column/);
  });
});

describe('perf_analyzer stdout', () => {
  it('attributes delayed requests, unstable levels and server counts to the level they follow', () => {
    const n = new StdoutNotes();
    for (const line of [
      '*** Measurement Settings ***',
      'Request Rate: 1000 inference requests per seconds',
      '  Server: ',
      '    Inference count: 3639',
      '    Execution count: 3558',
      'Request Rate: 2000.00 inference requests per seconds',
      '    [WARNING] Perf Analyzer was not able to keep up with the desired request rate. 3.04% of the requests were delayed. ',
      'Failed to obtain stable measurement.',
    ]) {
      n.line(line);
    }
    expect(n.levels).toEqual([
      { value: 1000, delayedPercent: 0, unstable: false, serverInferences: 3639, serverExecutions: 3558, connections: null },
      { value: 2000, delayedPercent: 3.04, unstable: true, serverInferences: null, serverExecutions: null, connections: null },
    ]);
    n.line('Request concurrency: 16');
    expect(n.level()?.value).toBe(16);
  });
});

describe('ranges', () => {
  it('visits start, start+step, … up to end as perf_analyzer does', () => {
    expect(perfRange('1:16:5')).toEqual([1, 6, 11, 16]);
    expect(perfRange('1:16:15')).toEqual([1, 16]);
    expect(perfRange('4')).toEqual([4]);
    expect(perfRange('1000:3000:1000')).toEqual([1000, 2000, 3000]);
    expect(perfRange('0.5:1.5:0.5')).toEqual([0.5, 1, 1.5]);
    expect(() => perfRange('16:1')).toThrow(/end >= start/);
    expect(() => perfRange('a:b')).toThrow(/positive numbers/);
  });
});

describe('/proc stat', () => {
  it('reads the fields after a command name holding spaces and parentheses', () => {
    // pid (comm) state ppid … utime(14) stime(15) cutime(16) cstime(17)
    const text = '4242 (sh (x) y) S 1 2 3 4 5 6 7 8 9 10 150 50 1234 66 20 0 1 0 100 0 0';
    const f = statFields(text)!;
    expect(f[0]).toBe('S');
    expect(f[11]).toBe('150');
    expect(childrenCpuSeconds(text)).toBeCloseTo(13, 5);
    expect(childrenCpuSeconds('garbage')).toBeNull();
  });
});

function level(value: number, inferPerSec: number, p50Ms: number): LevelResult {
  return { value, inferPerSec, p50Ms, p90Ms: p50Ms * 2, p99Ms: p50Ms * 4, meanMs: p50Ms, serverQueueMs: null, serverComputeMs: 0.3, meanBatch: null, connections: 1, notes: [] };
}

function run(tool: ToolRun['tool'], round: number, levels: LevelResult[]): ToolRun {
  return {
    tool,
    round,
    commands: [],
    levels,
    missing: [],
    wallSeconds: 1,
    serverRequests: 1,
    generatorCpuUsPerRequest: 1,
    serverCpuUsPerRequest: 1,
    otherCpuShare: 0,
    error: null,
  };
}

describe('cross-check', () => {
  const info = { id: 'tabular/grpc', model: 'tabular', protocol: 'grpc', load: 'concurrency' as const, benchProtocol: 'grpc', description: '' };

  it('takes medians per level over the rounds, only of the rounds that measured it', () => {
    const runs = [
      run('perf_analyzer', 1, [level(1, 1000, 1.0), level(16, 4000, 4.0)]),
      run('perf_analyzer', 2, [level(1, 1200, 0.8)]),
      run('perf_analyzer', 3, [level(1, 1100, 0.9), level(16, 5000, 3.0)]),
    ];
    const s = summarizeTool(runs, 'perf_analyzer');
    expect(s.map((l) => [l.value, l.rounds, l.inferPerSec, l.p50Ms])).toEqual([
      [1, 3, 1100, 0.9],
      [16, 2, 4500, 3.5],
    ]);
    expect(s[0].serverQueueMs).toBeNull();
    // Little's law per round, then the median: 1000/s × 1 ms ÷ 1 = 1, 0.96, 0.99
    expect(s[0].little).toBeCloseTo(0.99, 5);
    expect(s[1].little).toBeCloseTo((4000 * 0.004 / 16 + 5000 * 0.003 / 16) / 2, 5);
    expect(summarizeTool(runs, 'perf_analyzer', 'rate')[0].little).toBeNull();
    expect(s[0].serverComputeMs).toBe(0.3);
  });

  it('gives switchyard bench ÷ perf_analyzer per level and whether both ratios are within ±15%', () => {
    const rows = crossCheck([
      {
        info,
        runs: [
          run('perf_analyzer', 1, [level(1, 1000, 1.0), level(16, 4000, 4.0)]),
          run('switchyard bench', 1, [level(1, 1100, 0.9), level(16, 6000, 4.0)]),
        ],
      },
    ]);
    expect(rows.map((r) => [r.value, r.throughputRatio, r.p50Ratio, r.agrees])).toEqual([
      [1, 1.1, 0.9, true],
      [16, 1.5, 1, false],
    ]);
  });

  it('merges the rounds’ notes that differ only in their numbers', () => {
    expect(mergeNotes(['3.04% of requests sent late', '8.65% of requests sent late', '3.04% of requests sent late', '2 failed (timeout: 2)'])).toEqual([
      '8.65% of requests sent late (worst round)',
      '2 failed (timeout: 2)',
    ]);
    expect(mergeNotes(['1% late', '1% late'])).toEqual(['1% late']);
  });

  it('leaves the ratio out where one tool measured nothing', () => {
    const rows = crossCheck([{ info, runs: [run('switchyard bench', 1, [level(1, 1100, 0.9)])] }]);
    expect(rows[0].pa).toBeNull();
    expect(rows[0].throughputRatio).toBeNaN();
    expect(rows[0].agrees).toBeNull();
  });
});
