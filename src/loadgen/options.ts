/**
 * The options of `switchyard bench`: parse → normalise → validate the strings the command line
 * gives into one frozen BenchOptions. Every mistake is a BenchUsageError naming the option,
 * what it got and what is expected.
 */
import { BenchUsageError } from './errors.js';

export const PROTOCOLS = ['http', 'http-binary', 'grpc', 'grpc-stream', 'ws'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Closed loop: `values` are concurrencies; open loop: arrival rates in requests per second. */
export interface LoadPlan {
  readonly mode: 'concurrency' | 'rate';
  readonly values: readonly number[];
}

export type InputData = { readonly kind: 'random' } | { readonly kind: 'zeros' } | { readonly kind: 'file'; readonly path: string };

/** Restart a local gateway for each value of one per-model setting. */
export interface SweepSpec {
  /** the setting as written in <model>/config.yaml, e.g. max_queue_delay_us or instance_count */
  readonly key: string;
  readonly values: readonly (number | string)[];
  /** the gateway's YAML config (its model repository is copied for every value) */
  readonly config: string;
}

export interface BenchOptions {
  /** HTTP base URL, no trailing slash (for sweeps: replaced by the local gateway's) */
  readonly url: string;
  /** host:port of the gRPC door */
  readonly grpcAddress: string;
  readonly model: string;
  readonly modelVersion: string | null;
  readonly protocol: Protocol;
  readonly plan: LoadPlan;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** a request unanswered this long counts as a `timeout` */
  readonly timeoutMs: number;
  readonly inputData: InputData;
  /** fixed shapes by input name (--shape x:1,16) */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly batchSize: number | null;
  /** HTTP connections / gRPC channels / WebSocket sockets; null = the protocol's default */
  readonly connections: number | null;
  /** open loop: requests in flight at most; null = the protocol's default */
  readonly maxInflight: number | null;
  readonly json: string | null;
  readonly markdown: string | null;
  readonly plot: string | null;
  readonly sweep: SweepSpec | null;
}

/** What the command line hands over: every value a string, as typed. */
export interface RawBenchOptions {
  url?: string;
  grpcUrl?: string;
  model?: string;
  modelVersion?: string;
  protocol?: string;
  concurrency?: string;
  rate?: string;
  duration?: string;
  warmup?: string;
  timeout?: string;
  inputData?: string;
  shape?: string[];
  batchSize?: string;
  connections?: string;
  maxInflight?: string;
  json?: string;
  markdown?: string;
  plot?: string;
  sweep?: string;
  config?: string;
}

export const DEFAULTS = Object.freeze({
  url: 'http://127.0.0.1:8000',
  grpcPort: 8001,
  protocol: 'http' as Protocol,
  concurrency: '1,16,64,256',
  duration: '10s',
  warmup: '2s',
  timeout: '30s',
});

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;

/** "30s", "500ms", "2m" or a bare number of seconds → milliseconds. */
export function parseDuration(option: string, text: string, allowZero: boolean): number {
  const m = DURATION.exec(text.trim());
  if (m === null) throw new BenchUsageError(`${option} ${JSON.stringify(text)}: expected a duration such as 30s, 500ms or 2m`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  if (ms < 0 || (!allowZero && ms === 0)) throw new BenchUsageError(`${option} ${JSON.stringify(text)}: expected a duration ${allowZero ? '>= 0' : '> 0'}`);
  return Math.round(ms);
}

function positiveInt(option: string, text: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) < 1 || !Number.isSafeInteger(Number(t))) {
    throw new BenchUsageError(`${option} ${JSON.stringify(text)}: expected a whole number >= 1`);
  }
  return Number(t);
}

/** "1,16,64" → [1, 16, 64]: positive numbers (integers unless `fractions`), any order kept. */
export function parseList(option: string, text: string, fractions: boolean): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw new BenchUsageError(`${option} ${JSON.stringify(text)}: expected a comma-separated list such as 1,16,64`);
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n) || n <= 0 || (!fractions && !Number.isInteger(n))) {
      throw new BenchUsageError(`${option} ${JSON.stringify(text)}: ${JSON.stringify(p)} is not ${fractions ? 'a number > 0' : 'a whole number >= 1'}`);
    }
    return n;
  });
}

/** "x:1,16" → ["x", [1, 16]]. */
export function parseShape(text: string): [string, number[]] {
  const at = text.lastIndexOf(':');
  const name = at <= 0 ? '' : text.slice(0, at);
  const dims = at <= 0 ? [] : text.slice(at + 1).split(',').map((s) => s.trim());
  if (name === '' || dims.length === 0 || dims.some((d) => !/^\d+$/.test(d))) {
    throw new BenchUsageError(`--shape ${JSON.stringify(text)}: expected <input>:<dims>, e.g. x:1,16 (whole numbers >= 0)`);
  }
  return [name, dims.map(Number)];
}

/** "max_queue_delay_us=0,100,500" → key and values (numbers where they read as numbers). */
export function parseSweep(text: string, config: string | undefined): SweepSpec {
  const m = /^([A-Za-z_][A-Za-z0-9_.]*)=(.+)$/.exec(text.trim());
  if (m === null) throw new BenchUsageError(`--sweep ${JSON.stringify(text)}: expected <setting>=<v1>,<v2>,…, e.g. max_queue_delay_us=0,100,500,2000`);
  const values = m[2].split(',').map((s) => s.trim());
  if (values.some((v) => v === '')) throw new BenchUsageError(`--sweep ${JSON.stringify(text)}: a value is empty; expected <setting>=<v1>,<v2>,…`);
  if (config === undefined || config === '') {
    throw new BenchUsageError('--sweep restarts a local gateway for each value: give its config with --config <file>, e.g. --config examples/switchyard.yaml');
  }
  return Object.freeze({ key: m[1], values: Object.freeze(values.map((v) => (/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v))), config });
}

function parseUrl(text: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new BenchUsageError(`--url ${JSON.stringify(text)}: expected an HTTP base URL such as http://127.0.0.1:8000`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new BenchUsageError(`--url ${JSON.stringify(text)}: expected http:// or https://, got ${u.protocol}`);
  }
  return u;
}

/** "host:8001", "grpc://host:8001" or "[::1]:8001" → "host:8001". */
function parseGrpcAddress(text: string): string {
  const t = text.replace(/^grpcs?:\/\//, '').replace(/\/+$/, '');
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:/\s]+):\d+$/.test(t)) throw new BenchUsageError(`--grpc-url ${JSON.stringify(text)}: expected host:port, e.g. 127.0.0.1:8001`);
  return t;
}

function parseInputData(text: string): InputData {
  if (text === 'random' || text === 'zeros') return Object.freeze({ kind: text });
  if (!text.endsWith('.json')) {
    throw new BenchUsageError(`--input-data ${JSON.stringify(text)}: expected random, zeros or a .json file holding a KServe v2 request body {"inputs": [...]}`);
  }
  return Object.freeze({ kind: 'file', path: text });
}

const orNull = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

/** Validates the command line's strings into frozen options (defaults filled in). */
export function parseBenchOptions(raw: RawBenchOptions): BenchOptions {
  if (raw.model === undefined || raw.model.trim() === '') throw new BenchUsageError('--model <name> is required: the model to load, as GET /v2/models/<name> names it');
  const url = parseUrl(raw.url ?? DEFAULTS.url);
  const protocol = raw.protocol ?? DEFAULTS.protocol;
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new BenchUsageError(`--protocol ${JSON.stringify(protocol)}: expected one of ${PROTOCOLS.join(', ')}`);
  }
  if (raw.concurrency !== undefined && raw.rate !== undefined) {
    throw new BenchUsageError('--concurrency and --rate exclude each other: give a closed loop (--concurrency 1,16) or an open loop (--rate 1000,5000)');
  }
  const plan: LoadPlan =
    raw.rate !== undefined
      ? { mode: 'rate', values: Object.freeze(parseList('--rate', raw.rate, true)) }
      : { mode: 'concurrency', values: Object.freeze(parseList('--concurrency', raw.concurrency ?? DEFAULTS.concurrency, false)) };
  const shapes: Record<string, readonly number[]> = {};
  for (const s of raw.shape ?? []) {
    const [name, dims] = parseShape(s);
    shapes[name] = Object.freeze(dims);
  }
  if (raw.config !== undefined && raw.sweep === undefined) throw new BenchUsageError('--config is only used with --sweep (it names the local gateway to restart)');
  const urlText = url.href.replace(/\/+$/, '');
  return Object.freeze({
    url: urlText,
    // URL.hostname keeps an IPv6 address in brackets, as host:port needs it
    grpcAddress: raw.grpcUrl !== undefined ? parseGrpcAddress(raw.grpcUrl) : `${url.hostname}:${DEFAULTS.grpcPort}`,
    model: raw.model.trim(),
    modelVersion: orNull(raw.modelVersion?.trim()),
    protocol: protocol as Protocol,
    plan: Object.freeze(plan),
    durationMs: parseDuration('--duration', raw.duration ?? DEFAULTS.duration, false),
    warmupMs: parseDuration('--warmup', raw.warmup ?? DEFAULTS.warmup, true),
    timeoutMs: parseDuration('--timeout', raw.timeout ?? DEFAULTS.timeout, false),
    inputData: parseInputData(raw.inputData ?? 'random'),
    shapes: Object.freeze(shapes),
    batchSize: raw.batchSize === undefined ? null : positiveInt('--batch-size', raw.batchSize),
    connections: raw.connections === undefined ? null : positiveInt('--connections', raw.connections),
    maxInflight: raw.maxInflight === undefined ? null : positiveInt('--max-inflight', raw.maxInflight),
    json: orNull(raw.json),
    markdown: orNull(raw.markdown),
    plot: orNull(raw.plot),
    sweep: raw.sweep === undefined ? null : parseSweep(raw.sweep, raw.config),
  });
}
