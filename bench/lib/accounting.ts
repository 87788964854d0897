/**
 * Where one measured run's CPU went, per answered request: the server's main thread, its
 * other threads (workers, ORT, libuv, child processes), and the load generator; plus whether
 * the generator or the whole machine was saturated, in which case the run's req/s says more
 * about the load generator or the machine than about the server.
 *
 * - generator load = the greater of its busiest load thread's share of one core (sampled
 *   inside the run) and its CPU ÷ (wall × the cores it could use, min(its threads, cores));
 *   ≥ 90 % flags the run generator-bound;
 * - machine busy = busy ÷ total CPU time of all cores over the window (/proc/stat); ≥ 95 %
 *   flags it machine-bound: the server and the generator compete for the cores (on the
 *   2-core bench machine every high-concurrency ceiling run is), or a neighbour takes them.
 */
import { machineTimes, type MachineTimes } from './cpu.js';
import type { GeneratorCpu } from './load.js';
import { snapshotThreads, splitThreads, type TaskTimes } from './threads.js';

export const GENERATOR_SATURATED = 0.9;
export const MACHINE_SATURATED = 0.95;
/** the server's busiest threads kept per run in the results file */
const TOP_THREADS = 6;

/** What is read of a server just before and just after a measured run. */
export interface CpuProbe {
  /** performance.now(), ms */
  at: number;
  threads: TaskTimes[] | null;
  machine: MachineTimes | null;
}

export function cpuProbe(serverPid: number): CpuProbe {
  return { at: performance.now(), threads: serverPid > 0 ? snapshotThreads(serverPid) : null, machine: machineTimes() };
}

export interface RunCpu {
  windowSeconds: number;
  /** answered requests (2xx and refused): the denominator of every µs/req */
  requests: number;
  mainUsPerRequest: number | null;
  otherUsPerRequest: number | null;
  generatorUsPerRequest: number | null;
  /** average cores over the window */
  mainCores: number | null;
  otherCores: number | null;
  generator: GeneratorCpu | null;
  /** see the module comment; null when nothing could be read */
  generatorLoad: number | null;
  machineBusy: number | null;
  generatorSaturated: boolean;
  machineSaturated: boolean;
  /** server threads that ended inside the window (their time is not counted) */
  lostThreads: number;
  topThreads: { pid: number; tid: number; comm: string; usPerRequest: number }[];
}

/** The generator's load, 0–1 (see the module comment); null when nothing could be read. */
export function generatorLoad(g: GeneratorCpu, cores: number): number | null {
  const usable = Math.max(1, Math.min(g.threads, cores));
  const average = g.seconds !== null && g.wallSeconds > 0 ? g.seconds / g.wallSeconds / usable : null;
  if (average === null && g.busiestThread === null) return null;
  return Math.max(average ?? 0, g.busiestThread ?? 0);
}

/** Accounts one run; null when the server's threads could not be read before and after. */
export function accountCpu(rootPid: number, before: CpuProbe | null, after: CpuProbe | null, generator: GeneratorCpu | null, requests: number, cores: number): RunCpu | null {
  if (before === null || after === null) return null;
  const windowSeconds = (after.at - before.at) / 1000;
  const split = before.threads !== null && after.threads !== null ? splitThreads(rootPid, before.threads, after.threads) : null;
  const perRequest = (s: number | null | undefined): number | null => (s != null && requests > 0 ? (s * 1e6) / requests : null);
  const averageCores = (s: number | undefined): number | null => (s !== undefined && windowSeconds > 0 ? s / windowSeconds : null);
  let machineBusy: number | null = null;
  if (before.machine !== null && after.machine !== null) {
    const total = after.machine.total - before.machine.total;
    if (total > 0) machineBusy = Math.min(1, (after.machine.busy - before.machine.busy) / total);
  }
  const load = generator === null ? null : generatorLoad(generator, cores);
  return {
    windowSeconds,
    requests,
    mainUsPerRequest: perRequest(split?.main),
    otherUsPerRequest: perRequest(split?.other),
    generatorUsPerRequest: perRequest(generator?.seconds),
    mainCores: averageCores(split?.main),
    otherCores: averageCores(split?.other),
    generator,
    generatorLoad: load,
    machineBusy,
    generatorSaturated: load !== null && load >= GENERATOR_SATURATED,
    machineSaturated: machineBusy !== null && machineBusy >= MACHINE_SATURATED,
    lostThreads: split?.lost ?? 0,
    topThreads: (split?.threads ?? []).slice(0, TOP_THREADS).map((t) => ({ pid: t.pid, tid: t.tid, comm: t.comm, usPerRequest: perRequest(t.seconds) ?? 0 })),
  };
}
