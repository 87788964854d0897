/**
 * A small structured logger: one JSON object per line on stderr (stdout stays free for
 * command output). Fields are plain values; errors are reduced to their message and stack.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  isLevelEnabled(level: LogLevel): boolean;
}

function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { message: value.message, stack: value.stack };
    if (value.cause !== undefined) out.cause = serialise(value.cause);
    return out;
  }
  return value;
}

/**
 * Which messages a logger writes, in the words of Triton's logging extension: info, warning
 * and error messages each on or off, and debug messages from verbose level 1 on.
 */
export interface LogSwitches {
  readonly info: boolean;
  readonly warning: boolean;
  readonly error: boolean;
  readonly verbose: number;
}

/** A logger whose switches can change while it runs (GET/POST /v2/logging). */
export interface AdjustableLogger extends Logger {
  switches(): LogSwitches;
  setSwitches(changes: Partial<LogSwitches>): void;
}

export function isAdjustable(log: Logger): log is AdjustableLogger {
  return typeof (log as Partial<AdjustableLogger>).switches === 'function' && typeof (log as Partial<AdjustableLogger>).setSwitches === 'function';
}

/** The switches that write `level` and every level above it. */
export function switchesFor(level: LogLevel): LogSwitches {
  const min = RANK[level];
  return { info: RANK.info >= min, warning: RANK.warn >= min, error: true, verbose: level === 'debug' ? 1 : 0 };
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): AdjustableLogger {
  let sw = switchesFor(level);
  const enabled = (lvl: LogLevel): boolean => (lvl === 'debug' ? sw.verbose > 0 : lvl === 'info' ? sw.info : lvl === 'warn' ? sw.warning : sw.error);
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (!enabled(lvl)) return;
    const rec: Record<string, unknown> = { level: lvl, time: new Date().toISOString(), msg };
    if (fields !== undefined) for (const k of Object.keys(fields)) rec[k] = serialise(fields[k]);
    write(JSON.stringify(rec) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    isLevelEnabled: enabled,
    switches: () => sw,
    setSwitches: (changes) => {
      sw = { ...sw, ...changes };
    },
  };
}

const drop = (): void => undefined;

/** A logger that drops everything (tests, library use); not adjustable. */
export const silentLogger: Logger = Object.freeze({ debug: drop, info: drop, warn: drop, error: drop, isLevelEnabled: () => false });
