/**
 * Coverage feedback from V8 itself: block-level precise coverage with call counts, taken
 * through an in-process inspector session (Profiler.takePreciseCoverage, which also resets
 * the counters). Each executed block of the scripts under study becomes a feature, keyed by
 * its script, its offsets and the AFL-style bucket of its count (1, 2, 3, 4-7, 8-15, 16-31,
 * 32-127, 128+), so running a loop more times is new coverage too. An input that shows a
 * feature never seen before joins the corpus.
 *
 * Why not Jazzer.js: see test/fuzz/README.md. Taking coverage costs ~0.5-1 ms a run, which
 * bounds this loop to hundreds of runs a second: fewer than libFuzzer, but guided.
 */
import { Session } from 'node:inspector';

interface Range {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface FunctionCoverage {
  ranges: Range[];
}
interface ScriptCoverage {
  url: string;
  functions: FunctionCoverage[];
}

function bucket(count: number): number {
  if (count <= 3) return count;
  if (count < 8) return 4;
  if (count < 16) return 5;
  if (count < 32) return 6;
  if (count < 128) return 7;
  return 8;
}

export class CoverageFeedback {
  private readonly session = new Session();
  private readonly scriptIds = new Map<string, number>();
  /** every feature seen so far */
  readonly seen = new Set<number>();

  /** `studied(url)`: whether a script's blocks count (the decoders, not the fuzzer). */
  constructor(private readonly studied: (url: string) => boolean) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  private post(method: string, params: object = {}): unknown {
    let result: unknown;
    let error: Error | null = null;
    // an in-process session answers synchronously
    this.session.post(method, params, (e, r) => {
      error = e;
      result = r;
    });
    if (error !== null) throw error;
    return result;
  }

  /** Coverage since the last call, as features; counters restart. */
  take(): number[] {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const out: number[] = [];
    for (const script of result) {
      if (!this.studied(script.url)) continue;
      let id = this.scriptIds.get(script.url);
      if (id === undefined) {
        id = this.scriptIds.size + 1;
        this.scriptIds.set(script.url, id);
      }
      for (const fn of script.functions) {
        for (const r of fn.ranges) {
          if (r.count === 0) continue;
          // a 32-bit mix of (script, start, end, bucket); a rare collision only hides a feature
          let h = Math.imul(id, 0x9e3779b1) ^ r.startOffset;
          h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ r.endOffset;
          h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) ^ bucket(r.count);
          out.push(h >>> 0);
        }
      }
    }
    return out;
  }

  /** Adds `features` to what was seen; returns how many were new. */
  merge(features: readonly number[]): number {
    let fresh = 0;
    for (const f of features) {
      if (!this.seen.has(f)) {
        this.seen.add(f);
        fresh++;
      }
    }
    return fresh;
  }

  close(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }
}
