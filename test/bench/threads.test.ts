/**
 * The per-thread CPU split and the per-request accounting, on /proc/<pid>/task/<tid>/stat
 * recorded from a switchyard process (pid 751, Node 20) before and after a 3 s wrk run at
 * concurrency 64 (test/bench/fixtures/wrk-switchyard-c64.txt is that run: 137087 requests).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { accountCpu, generatorLoad, type CpuProbe } from '../../bench/lib/accounting.js';
import { descendants, parseTaskStat, snapshotThreads, splitThreads, type TaskTimes } from '../../bench/lib/threads.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const PID = 751;

function snapshot(name: string): TaskTimes[] {
  return readFileSync(path.join(FIXTURES, name), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => parseTaskStat(l, PID)!);
}

const before = snapshot('proc-switchyard-tasks-before.txt');
const after = snapshot('proc-switchyard-tasks-after.txt');

describe('per-thread CPU from /proc', () => {
  it('reads a task stat line: tid, comm, parent, utime + stime', () => {
    expect(before).toHaveLength(28);
    expect(after[0]).toEqual({ pid: PID, tid: 751, comm: 'node', ppid: 1, seconds: (652 + 435) / 100 });
    expect(parseTaskStat('not a stat line', 1)).toBeNull();
    // a command name with spaces and parentheses
    expect(parseTaskStat('42 (a (b) c) S 7 42 42 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 0 0', 42)).toMatchObject({ tid: 42, comm: 'a (b) c', ppid: 7, seconds: 0.11 });
  });

  it('splits the window into the main thread (tid == pid) and every other thread', () => {
    const s = splitThreads(PID, before, after);
    expect(s.main).toBeCloseTo(2.65, 6);
    expect(s.other).toBeCloseTo(0.8, 6);
    expect(s.busiest).toBeCloseTo(2.65, 6);
    expect(s.lost).toBe(0);
    expect(s.threads.map((t) => [t.tid, Math.round(t.seconds * 100)])).toEqual([
      [751, 265],
      [770, 30],
      [755, 14],
      [757, 13],
      [756, 12],
      [754, 11],
    ]);
  });

  it('counts a thread born in the window from zero and reports one that ended as lost', () => {
    const born: TaskTimes = { pid: PID, tid: 999, comm: 'node', ppid: 1, seconds: 0.5 };
    const s = splitThreads(PID, before, [...after.filter((t) => t.tid !== 770), born]);
    expect(s.other).toBeCloseTo(0.8 - 0.3 + 0.5, 6);
    expect(s.lost).toBe(1);
  });

  it('per request: 137087 answers in the window', () => {
    const probe = (threads: TaskTimes[], at: number, busy: number): CpuProbe => ({ at, threads, machine: { busy, total: at / 1000 * 2 } });
    const generator = { name: 'wrk -t2', threads: 2, seconds: 1.33, wallSeconds: 3.02, busiestThread: 0.3 };
    const cpu = accountCpu(PID, probe(before, 1000, 0), probe(after, 4020, 5.9), generator, 137087, 2)!;
    expect(cpu.mainUsPerRequest).toBeCloseTo(2.65e6 / 137087, 6);
    expect(cpu.otherUsPerRequest).toBeCloseTo(0.8e6 / 137087, 6);
    expect(cpu.generatorUsPerRequest).toBeCloseTo(1.33e6 / 137087, 6);
    expect(cpu.mainCores).toBeCloseTo(2.65 / 3.02, 6);
    expect(cpu.machineBusy).toBeCloseTo(5.9 / 6.04, 6);
    expect(cpu.machineSaturated).toBe(true);
    expect(cpu.generatorSaturated).toBe(false);
    expect(cpu.topThreads[0]).toMatchObject({ tid: 751, comm: 'node' });
  });

  it('flags a generator whose busiest thread, or whose threads together, are at 90 % or more', () => {
    // wrk -t1 at 150k req/s on hello-uws used 2.92 s of CPU in 3.00 s
    expect(generatorLoad({ name: 'wrk -t1', threads: 1, seconds: 2.92, wallSeconds: 3, busiestThread: null }, 2)).toBeCloseTo(0.973, 3);
    expect(generatorLoad({ name: 'wrk -t2', threads: 2, seconds: 1.0, wallSeconds: 3, busiestThread: 0.95 }, 2)).toBe(0.95);
    // more threads than cores: what it could use is the cores
    expect(generatorLoad({ name: 'wrk -t4', threads: 4, seconds: 5.7, wallSeconds: 3, busiestThread: null }, 2)).toBeCloseTo(0.95, 6);
    expect(generatorLoad({ name: 'x', threads: 1, seconds: null, wallSeconds: 3, busiestThread: null }, 2)).toBeNull();
  });

  it('finds a process’s descendants', () => {
    const ppids = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [13, 1],
    ]);
    expect(descendants(10, ppids)).toEqual([10, 11, 12]);
  });

  it.runIf(process.platform === 'linux')('snapshots this process’s threads, its main thread included', () => {
    const s = snapshotThreads(process.pid, false)!;
    expect(s.some((t) => t.tid === process.pid)).toBe(true);
    expect(snapshotThreads(2 ** 22 + 12345)).toBeNull();
  });
});
