/**
 * The load generator behind `switchyard bench`: a perf_analyzer for the Open Inference
 * Protocol that runs against any KServe v2 server (switchyard, Triton, KServe) over HTTP
 * (JSON or the binary extension), gRPC (unary or streaming) or switchyard's WebSocket stream,
 * in closed loop (fixed concurrency) or open loop (fixed arrival rate, latency from the
 * intended send time).
 */
export { runBench, type BenchHooks } from './bench.js';
export { BenchError, BenchUsageError } from './errors.js';
export { ClosedLoop, OpenLoop, type PhaseResult } from './loops.js';
export { Recorder } from './recorder.js';
export { DEFAULTS, PROTOCOLS, parseBenchOptions, parseDuration, type BenchOptions, type LoadPlan, type Protocol, type RawBenchOptions } from './options.js';
export { HttpDriver, GrpcUnaryDriver, GrpcStreamDriver, WsDriver, type Driver, type Sink } from './drivers/index.js';
export { driverFactory, stepShape, type Endpoints } from './target.js';
export { parsePrometheus, serverWindow, snapshot, scrapeServer, type ServerStats } from './server-metrics.js';
export { clientLoad, summarise, type BenchReport, type ClientLoad, type StepResult, type RunResult } from './results.js';
export { formatJson, formatMarkdown, formatText, renderSvg } from './report/index.js';
export { startLocalGateway, type LocalGateway } from './local-gateway.js';
