/**
 * The WebSocket load generator: a closed loop over /v2/stream with the `ws` package, in the
 * bench process. `connections` requests are kept in flight, spread over `sockets` sockets
 * (default 1): each response sends the next request on its socket, until `duration` is up;
 * then the requests still in flight are awaited (up to 10 s; the rest count as timeouts).
 * One `measureWs()` is a warm-up run whose numbers are thrown away, then the measured run,
 * each on fresh sockets (opening them is not timed).
 *
 * The result has the shape of load.ts's: `ok2xx` counts successful responses, `non2xx`
 * error messages (`statusCodes` by their code, "ok" for successes), `errors` sockets that
 * failed or closed early. Latency (successes only) is from the send to the response, kept
 * in a microsecond histogram.
 */
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { LoadResult, LoadSettings, Measured } from './load.js';

export interface WsLoadTarget {
  /** ws://host:port/v2/stream */
  url: string;
  /** the request's JSON object without "id" (added per message), e.g. '{"model_name":"tabular","inputs":[...]}' */
  request: string;
  /** raw tensor bytes to send in binary frames after the JSON header; null = text frames */
  tensors: Uint8Array | null;
}

export interface WsLoadSettings extends LoadSettings {
  /** sockets the `connections` in-flight requests are spread over; default 1 */
  sockets?: number;
}

const DRAIN_TIMEOUT_MS = 10_000;
const ID_PREFIX = '{"id":"';

/** Counts of one run, shared by its sockets. */
class Tally {
  ok = 0;
  failed = 0;
  errors = 0;
  timeouts = 0;
  codes: Record<string, number> = {};
  lastResponse = 0;
  readonly hist: RecordableHistogram | null;

  constructor(record: boolean) {
    this.hist = record ? createHistogram() : null;
  }
}

/** One socket's closed loop: `depth` requests in flight until `stopAt`. */
class Loop {
  private readonly ws: WebSocket;
  private readonly target: WsLoadTarget;
  private readonly tally: Tally;
  private readonly name: string;
  private readonly sentAt = new Map<string, number>();
  private seq = 0;
  private stopAt = 0;
  private done: (() => void) | null = null;
  private ended = false;

  constructor(ws: WebSocket, target: WsLoadTarget, tally: Tally, name: string) {
    this.ws = ws;
    this.target = target;
    this.tally = tally;
    this.name = name;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', () => this.fail());
    ws.on('error', () => this.fail());
  }

  static open(url: string, target: WsLoadTarget, tally: Tally, name: string): Promise<Loop> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new Loop(ws, target, tally, name)));
      ws.once('error', reject);
    });
  }

  /** Runs until `stopAt` (performance.now()) and every answer is in, or the socket fails. */
  run(depth: number, stopAt: number): Promise<void> {
    this.stopAt = stopAt;
    return new Promise((resolve) => {
      this.done = resolve;
      for (let i = 0; i < depth; i++) this.send();
    });
  }

  /** Gives up on what is still in flight (they count as timeouts) and closes the socket. */
  finish(): void {
    this.tally.timeouts += this.sentAt.size;
    this.sentAt.clear();
    this.ended = true;
    this.ws.removeAllListeners('close');
    this.ws.terminate();
    this.resolve();
  }

  private send(): void {
    const id = `${this.name}-${this.seq++}`;
    const json = ID_PREFIX + id + '",' + this.target.request.slice(1);
    const t = this.target.tensors;
    this.sentAt.set(id, performance.now());
    if (t === null) {
      this.ws.send(json, { binary: false });
      return;
    }
    const hlen = Buffer.byteLength(json, 'utf8');
    const frame = Buffer.allocUnsafe(4 + hlen + t.byteLength);
    frame.writeUInt32LE(hlen, 0);
    frame.write(json, 4, hlen, 'utf8');
    frame.set(t, 4 + hlen);
    this.ws.send(frame, { binary: true });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const now = performance.now();
    const at = isBinary ? 4 : 0;
    // responses and errors start with {"id":"<id>" (the gateway writes the id first)
    const end = data.indexOf(34 /* " */, at + ID_PREFIX.length);
    const id = data.toString('latin1', at + ID_PREFIX.length, end);
    const started = this.sentAt.get(id);
    if (started === undefined) {
      this.tally.failed++;
      this.count(errorCode(data, at));
      return;
    }
    this.sentAt.delete(id);
    this.tally.lastResponse = now;
    if (data.toString('latin1', end + 1, end + 10) === ',"error":') {
      this.tally.failed++;
      this.count(errorCode(data, at));
    } else {
      this.tally.ok++;
      this.count('ok');
      this.tally.hist?.record(Math.max(1, Math.round((now - started) * 1000)));
    }
    if (now < this.stopAt) this.send();
    else if (this.sentAt.size === 0) this.resolve();
  }

  private count(code: string): void {
    this.tally.codes[code] = (this.tally.codes[code] ?? 0) + 1;
  }

  private fail(): void {
    if (this.ended) return;
    this.ended = true;
    this.tally.errors++;
    this.tally.timeouts += this.sentAt.size;
    this.sentAt.clear();
    this.resolve();
  }

  private resolve(): void {
    const d = this.done;
    this.done = null;
    if (d !== null) d();
  }
}

function errorCode(data: Buffer, at: number): string {
  try {
    const m = JSON.parse(data.toString('utf8', at, at === 0 ? data.byteLength : at + data.readUInt32LE(0))) as { code?: unknown };
    return typeof m.code === 'string' ? m.code : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** One closed-loop run of `durationS` seconds; `record` keeps latencies. */
async function fire(target: WsLoadTarget, connections: number, sockets: number, durationS: number, record: boolean): Promise<{ tally: Tally; durationS: number }> {
  const n = Math.max(1, Math.min(sockets, connections));
  const tally = new Tally(record);
  const loops = await Promise.all(Array.from({ length: n }, (_, i) => Loop.open(target.url, target, tally, `s${i}`)));
  const start = performance.now();
  const stopAt = start + durationS * 1000;
  const runs = loops.map((loop, i) => loop.run(Math.floor(connections / n) + (i < connections % n ? 1 : 0), stopAt));
  let timer: NodeJS.Timeout | null = null;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, durationS * 1000 + DRAIN_TIMEOUT_MS);
  });
  await Promise.race([Promise.all(runs), deadline]);
  if (timer !== null) clearTimeout(timer);
  for (const loop of loops) loop.finish();
  const end = tally.lastResponse > start ? tally.lastResponse : performance.now();
  return { tally, durationS: (end - start) / 1000 };
}

/**
 * Warm-up, then one measured run with `connections` requests in flight over
 * `settings.sockets` sockets. `probe` (e.g. a /metrics scrape) runs after the warm-up and
 * after the run.
 */
export async function measureWs<T>(target: WsLoadTarget, settings: WsLoadSettings, probe: (() => Promise<T>) | null): Promise<Measured<T>> {
  const sockets = settings.sockets ?? 1;
  if (settings.warmup > 0) await fire(target, settings.connections, sockets, settings.warmup, false);
  const before = probe === null ? null : await probe();
  const { tally, durationS } = await fire(target, settings.connections, sockets, settings.duration, true);
  const after = probe === null ? null : await probe();
  const hist = tally.hist as RecordableHistogram;
  const ms = (p: number): number => (hist.count === 0 ? NaN : hist.percentile(p) / 1000);
  const result: LoadResult = {
    connections: settings.connections,
    durationS,
    reqPerSec: durationS > 0 ? tally.ok / durationS : 0,
    ok2xx: tally.ok,
    non2xx: tally.failed,
    errors: tally.errors,
    timeouts: tally.timeouts,
    latencyMs: {
      p50: ms(50),
      p90: ms(90),
      p99: ms(99),
      max: hist.count === 0 ? NaN : hist.max / 1000,
      mean: hist.count === 0 ? NaN : hist.mean / 1000,
    },
    statusCodes: tally.codes,
  };
  return { result, before, after };
}
