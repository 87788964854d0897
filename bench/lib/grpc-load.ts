/**
 * The gRPC load generator: closed loop, in the bench process (servers run in child
 * processes). `concurrency` requests are in flight at all times, each slot sending its next
 * request as soon as the previous one is answered:
 *
 * - mode 'unary':  ModelInfer calls, spread over `channels` connections (default 1, as a
 *   Triton client holds one channel);
 * - mode 'stream': ModelStreamInfer, the slots spread over `streams` streams (default 1),
 *   each response matched to its slot by the request id.
 *
 * Requests are encoded once per slot up front, so the generator measures the server rather
 * than its own encoding. Latency is request written → response decoded, recorded in a
 * microsecond histogram. The result has the shape of load.ts's LoadResult: `ok2xx` counts
 * OK answers, `non2xx` failed ones (a gRPC status other than OK, or a stream answer with
 * error_message), `errors` connection failures (UNAVAILABLE), `timeouts` DEADLINE_EXCEEDED;
 * `statusCodes` counts answers by gRPC status name.
 */
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { Client, Metadata, credentials, status as Status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { GRPCInferenceService, ModelInferRequestSchema, ModelStreamInferResponseSchema, type ModelStreamInferResponse } from '../../src/gen/grpc_service_pb.js';
import { methodPath } from '../../src/transport/grpc/index.js';
import type { LoadResult, Measured } from './load.js';

export interface GrpcLoadTarget {
  /** host:port */
  address: string;
  mode: 'unary' | 'stream';
  /** the request every slot sends (its `id` is replaced by the slot's) */
  request: MessageInitShape<typeof ModelInferRequestSchema>;
}

export interface GrpcLoadSettings {
  /** requests in flight at all times */
  concurrency: number;
  /** seconds */
  duration: number;
  /** seconds of warm-up before the measured run; 0 = none */
  warmup: number;
  /** unary: connections the calls are spread over (default 1) */
  channels?: number;
  /** stream: streams the slots are spread over (default 1) */
  streams?: number;
}

const identity = (b: Buffer): Buffer => b;
const UNARY_PATH = methodPath(GRPCInferenceService, 'ModelInfer');
const STREAM_PATH = methodPath(GRPCInferenceService, 'ModelStreamInfer');
const STATUS_NAME = new Map<number, string>(Object.entries(Status).map(([name, code]) => [code as number, name]));

class Tally {
  ok = 0;
  failed = 0;
  errors = 0;
  timeouts = 0;
  readonly codes = new Map<string, number>();
  readonly hist: RecordableHistogram = createHistogram();

  record(code: number, startedAt: number): void {
    const name = STATUS_NAME.get(code) ?? String(code);
    this.codes.set(name, (this.codes.get(name) ?? 0) + 1);
    if (code === Status.OK) {
      this.ok++;
      this.hist.record(Math.max(1, Math.round((performance.now() - startedAt) * 1000)));
    } else if (code === Status.UNAVAILABLE) this.errors++;
    else if (code === Status.DEADLINE_EXCEEDED) this.timeouts++;
    else this.failed++;
  }
}

/** One load run; resolves when every request in flight at the end has finished. */
interface Run {
  tally: Tally;
  seconds: number;
}

function encodeSlots(target: GrpcLoadTarget, concurrency: number): Buffer[] {
  return Array.from({ length: concurrency }, (_, i) => {
    const msg = create(ModelInferRequestSchema, target.request);
    msg.id = String(i);
    return Buffer.from(toBinary(ModelInferRequestSchema, msg));
  });
}

function runUnary(clients: Client[], slots: Buffer[], durationS: number): Promise<Run> {
  const tally = new Tally();
  const start = performance.now();
  const end = start + durationS * 1000;
  let open = slots.length;
  return new Promise((resolve) => {
    const send = (slot: number): void => {
      const startedAt = performance.now();
      clients[slot % clients.length].makeUnaryRequest(UNARY_PATH, identity, identity, slots[slot], new Metadata(), {}, (err: ServiceError | null) => {
        const now = performance.now();
        if (now <= end) tally.record(err === null ? Status.OK : err.code, startedAt);
        if (now < end) send(slot);
        else if (--open === 0) resolve({ tally, seconds: (end - start) / 1000 });
      });
    };
    for (let i = 0; i < slots.length; i++) send(i);
  });
}

function runStream(client: Client, slots: Buffer[], streamCount: number, durationS: number): Promise<Run> {
  const tally = new Tally();
  const start = performance.now();
  const end = start + durationS * 1000;
  const startedAt = new Float64Array(slots.length);
  const streams: ClientDuplexStream<Buffer, ModelStreamInferResponse>[] = [];
  let open = slots.length;
  return new Promise((resolve, reject) => {
    const finish = (): void => {
      for (const s of streams) s.end();
      resolve({ tally, seconds: (end - start) / 1000 });
    };
    const send = (slot: number): void => {
      startedAt[slot] = performance.now();
      streams[slot % streams.length].write(slots[slot]);
    };
    for (let k = 0; k < Math.min(streamCount, slots.length); k++) {
      const call = client.makeBidiStreamRequest(STREAM_PATH, identity, (b: Buffer) => fromBinary(ModelStreamInferResponseSchema, b), new Metadata(), {});
      call.on('data', (r: ModelStreamInferResponse) => {
        const slot = Number(r.inferResponse?.id);
        const now = performance.now();
        if (now <= end) tally.record(r.errorMessage === '' ? Status.OK : Status.UNKNOWN, startedAt[slot]);
        if (now < end) send(slot);
        else if (--open === 0) finish();
      });
      call.on('error', (e: ServiceError) => reject(new Error(`ModelStreamInfer failed: ${e.message}`)));
      streams.push(call);
    }
    for (let i = 0; i < slots.length; i++) send(i);
  });
}

function toResult(run: Run, concurrency: number): LoadResult {
  const { tally, seconds } = run;
  const h = tally.hist;
  const ms = (v: number): number => (tally.ok === 0 ? NaN : v / 1000);
  return {
    connections: concurrency,
    durationS: seconds,
    reqPerSec: seconds > 0 ? tally.ok / seconds : 0,
    ok2xx: tally.ok,
    non2xx: tally.failed,
    errors: tally.errors,
    timeouts: tally.timeouts,
    latencyMs: { p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) },
    statusCodes: Object.fromEntries(tally.codes),
  };
}

/**
 * Warm-up, then one measured run at `settings.concurrency` requests in flight. `probe`
 * (e.g. a /metrics scrape) runs after the warm-up and after the run.
 */
export async function measureGrpc<T>(target: GrpcLoadTarget, settings: GrpcLoadSettings, probe: (() => Promise<T>) | null): Promise<Measured<T>> {
  const slots = encodeSlots(target, settings.concurrency);
  const channels = target.mode === 'unary' ? Math.max(1, settings.channels ?? 1) : 1;
  // distinct channel options keep grpc-js from sharing one connection between the clients
  const clients = Array.from({ length: channels }, (_, i) => new Client(target.address, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'switchyard.bench.channel': i }));
  const once = (seconds: number): Promise<Run> =>
    target.mode === 'unary' ? runUnary(clients, slots, seconds) : runStream(clients[0], slots, Math.max(1, settings.streams ?? 1), seconds);
  try {
    if (settings.warmup > 0) await once(settings.warmup);
    const before = probe === null ? null : await probe();
    const run = await once(settings.duration);
    const after = probe === null ? null : await probe();
    return { result: toResult(run, settings.concurrency), before, after };
  } finally {
    for (const c of clients) c.close();
  }
}
