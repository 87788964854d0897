/**
 * The live progress line on stderr while a phase runs: rewritten in place (`\r`) every
 * 250 ms on a terminal, else one line every 5 s (logs and CI stay readable).
 */
import type { Recorder } from './recorder.js';

/** What the line reads from the running phase. */
export interface ProgressSource {
  /** e.g. "c=16", "max_queue_delay_us=100 c=16 warm-up" */
  readonly label: string;
  readonly durationMs: number;
  elapsedMs(): number;
  readonly recorder: Recorder;
}

export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

const TTY_EVERY_MS = 250;
const LOG_EVERY_MS = 5000;

function fmt(ms: number): string {
  return Number.isFinite(ms) ? (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)) : '-';
}

/** One progress line for `s`. */
export function progressLine(s: ProgressSource): string {
  const r = s.recorder;
  const elapsed = Math.min(s.elapsedMs(), s.durationMs);
  const rate = elapsed > 0 ? (r.successesInWindow / elapsed) * 1000 : 0;
  return (
    `${s.label} ${(elapsed / 1000).toFixed(1)}/${(s.durationMs / 1000).toFixed(1)} s  ` +
    `${r.successes} ok  ${r.failures} err  ${rate.toFixed(0)} req/s  p50 ${fmt(r.percentileMs(50))} ms  p99 ${fmt(r.percentileMs(99))} ms`
  );
}

export class Progress {
  private readonly out: ProgressOutput | null;
  private timer: NodeJS.Timeout | null = null;
  private shown = false;

  /** `out` null: no progress at all. */
  constructor(out: ProgressOutput | null) {
    this.out = out;
  }

  start(source: ProgressSource): void {
    this.stop();
    const out = this.out;
    if (out === null) return;
    const tty = out.isTTY === true;
    this.timer = setInterval(
      () => {
        const line = progressLine(source);
        if (tty) {
          out.write(`\r\x1b[K${line}`);
          this.shown = true;
        } else out.write(`${line}\n`);
      },
      tty ? TTY_EVERY_MS : LOG_EVERY_MS,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.shown) this.out?.write('\r\x1b[K');
    this.shown = false;
  }

  /** A line of its own (e.g. "gateway started"), clearing the live line first. */
  note(text: string): void {
    if (this.out === null) return;
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
    this.out.write(`${text}\n`);
  }
}
