/**
 * CPU time per thread of a server (and of the processes it started) over a measured window,
 * from /proc/<pid>/task/<tid>/stat read before and after it: the main thread (tid == pid,
 * where Node runs its event loop, or Python its interpreter) apart from every other thread
 * (piscina workers, ORT's intra-op threads, libuv's pool, V8's platform threads; a forking
 * server's worker processes). Node 20 names none of its threads (every comm is "node"), so
 * the split is main vs the rest; the per-thread list keeps each tid's own time.
 *
 * A thread that starts inside the window counts from zero; one that ends inside it takes its
 * time with it (counted in `lost`), so the "other" figure is a floor when threads come and go.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { statFields } from './cpu.js';

/** Linux's USER_HZ, as in cpu.ts. */
const TICKS_PER_SECOND = 100;

export interface TaskTimes {
  /** the process the thread belongs to */
  pid: number;
  tid: number;
  comm: string;
  /** the process's parent (field 4), to find a server's children */
  ppid: number;
  /** utime + stime, seconds */
  seconds: number;
}

/** One /proc/<pid>/task/<tid>/stat line (or /proc/<pid>/stat), or null when it is not one. */
export function parseTaskStat(text: string, pid: number): TaskTimes | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const f = statFields(text);
  if (open < 0 || close < open || f === null || f.length < 13) return null;
  const tid = Number(text.slice(0, open).trim());
  const seconds = (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
  if (!Number.isInteger(tid) || !Number.isFinite(seconds)) return null;
  return { pid, tid, comm: text.slice(open + 1, close), ppid: Number(f[1]), seconds };
}

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The threads of one process; [] when it is gone. */
function processThreads(pid: number): TaskTimes[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: TaskTimes[] = [];
  for (const tid of tids) {
    const text = read(`/proc/${pid}/task/${tid}/stat`);
    const t = text === null ? null : parseTaskStat(text, pid);
    if (t !== null) out.push(t);
  }
  return out;
}

/** pid → parent pid of every process on the machine (one pass over /proc). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const text = read(`/proc/${e}/stat`);
    const t = text === null ? null : parseTaskStat(text, Number(e));
    if (t !== null) out.set(t.pid, t.ppid);
  }
  return out;
}

/** `root` and every process below it, root first. */
export function descendants(root: number, ppids: ReadonlyMap<number, number>): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const [pid, ppid] of ppids) if (ppid === out[i] && !out.includes(pid)) out.push(pid);
  }
  return out;
}

/**
 * Every thread of `pid` (and, with `children`, of the processes under it) with its CPU
 * time so far; null when /proc cannot be read (not Linux, or the process is gone).
 */
export function snapshotThreads(pid: number, children = true): TaskTimes[] | null {
  const pids = children ? descendants(pid, parents()) : [pid];
  const out = pids.flatMap(processThreads);
  return out.length === 0 ? null : out;
}

export interface ThreadShare {
  pid: number;
  tid: number;
  comm: string;
  /** CPU seconds in the window */
  seconds: number;
}

export interface ThreadSplit {
  /** CPU seconds of the root process's main thread (tid == pid) */
  main: number;
  /** CPU seconds of all its other threads and of its child processes' threads */
  other: number;
  /** the busiest thread's seconds (main included) */
  busiest: number;
  /** threads seen before and not after: their time in the window is not counted */
  lost: number;
  /** every thread that ran in the window, most CPU first */
  threads: ThreadShare[];
}

/** Where `root`'s CPU went between two snapshots. */
export function splitThreads(root: number, before: readonly TaskTimes[], after: readonly TaskTimes[]): ThreadSplit {
  const key = (t: TaskTimes): string => `${t.pid}/${t.tid}`;
  const start = new Map(before.map((t) => [key(t), t.seconds]));
  const seen = new Set<string>();
  const threads: ThreadShare[] = [];
  let main = 0;
  let other = 0;
  for (const t of after) {
    const k = key(t);
    seen.add(k);
    const d = Math.max(0, t.seconds - (start.get(k) ?? 0));
    if (t.pid === root && t.tid === root) main += d;
    else other += d;
    if (d > 0) threads.push({ pid: t.pid, tid: t.tid, comm: t.comm, seconds: d });
  }
  threads.sort((a, b) => b.seconds - a.seconds);
  const lost = before.filter((t) => !seen.has(key(t))).length;
  return { main, other, busiest: threads.length === 0 ? 0 : threads[0].seconds, lost, threads };
}
