/**
 * What the bench reads from Linux's /proc to say where the CPU went during a run: the CPU
 * time of a process (all its threads), the busy time of the whole machine (so that what
 * neither the server nor the load generator used — other tenants of a shared VM — shows up),
 * the CPU time of a finished child (read by its `sh` parent, see `timedCommand`), and the
 * TCP connections established to a port. Every reader returns null where /proc is not there
 * (not Linux), and the bench then reports no CPU numbers rather than wrong ones.
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc times are in 1/100 s on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The fields of /proc/<pid>/stat after the command name (which may hold spaces and
 * parentheses, so the split starts after the last ')'): index 0 is field 3 (state).
 */
export function statFields(text: string): string[] | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  return text.slice(close + 2).trim().split(/\s+/);
}

/** utime + stime of a process (fields 14 and 15), in seconds; null when it cannot be read. */
export function processCpuSeconds(pid: number): number | null {
  const text = read(`/proc/${pid}/stat`);
  const f = text === null ? null : statFields(text);
  if (f === null || f.length < 13) return null;
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
}

/** cutime + cstime (fields 16 and 17: children waited for) of a /proc/<pid>/stat text, in seconds. */
export function childrenCpuSeconds(statText: string): number | null {
  const f = statFields(statText);
  if (f === null || f.length < 15) return null;
  const s = (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND;
  return Number.isFinite(s) ? s : null;
}

export interface MachineTimes {
  /** CPU seconds spent not idle, summed over all CPUs */
  busy: number;
  /** all CPU seconds, idle included */
  total: number;
}

/** The first line of /proc/stat: user nice system idle iowait irq softirq steal … */
export function machineTimes(): MachineTimes | null {
  const text = read('/proc/stat');
  if (text === null) return null;
  const line = text.split('\n', 1)[0];
  if (!line.startsWith('cpu ')) return null;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (v.length < 8 || v.some((x) => !Number.isFinite(x))) return null;
  const idle = v[3] + v[4];
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}

/**
 * TCP connections in state ESTABLISHED whose remote port is `port`, from /proc/net/tcp and
 * tcp6: on one machine these are the clients' ends of the connections to a local server.
 */
export function establishedTo(port: number): number | null {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  let readable = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = read(file);
    if (text === null) continue;
    readable = true;
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols: sl local_address rem_address st …; addresses are HEXIP:HEXPORT
      if (cols.length < 4 || cols[3] !== '01') continue;
      if (cols[2].endsWith(`:${hex}`)) count++;
    }
  }
  return readable ? count : null;
}

/**
 * `sh` arguments that run `command args…` and, once it has exited, write the shell's own
 * /proc/self/stat to `statFile`: its cutime/cstime are then the CPU time of the command and
 * everything it waited for (childrenCpuSeconds reads them). The command's exit status is kept.
 */
export function timedCommand(statFile: string, command: string, args: readonly string[]): string[] {
  return ['-c', 'f="$1"; shift; "$@"; rc=$?; cat /proc/$$/stat > "$f" 2>/dev/null; exit $rc', 'sh', statFile, command, ...args];
}
