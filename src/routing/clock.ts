/**
 * Time as routing sees it: injectable so that tests drive canary steps and feedback expiry
 * in fake time.
 */
export interface Clock {
  /** milliseconds since the epoch */
  now(): number;
  /** runs `fn` once after `ms`; the handle is for cancel() */
  setTimer(fn: () => void, ms: number): unknown;
  cancel(handle: unknown): void;
}

/** The real clock. Its timers never keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    t.unref();
    return t;
  },
  cancel(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
