/**
 * The uWS peer: the strongest server a Node user would write without a gateway.
 * uWebSockets.js, one onnxruntime-node session created with ORT's defaults, `session.run()`
 * once per request, inline on the event loop (no batching, no worker threads). KServe v2 JSON
 * or Triton's binary extension in, JSON out, through the same codec as the node:http peer
 * (servers/peer-codec.ts): the two differ only in their HTTP server.
 *
 * Answers `POST /v2/models/:model[/versions/:version]/infer`, like the switchyard cases.
 * Runs as its own process: `node --import tsx bench/servers/peer-uws-inline.ts host port model.onnx`.
 * Prints one line `{"port":N,"uws":"native"|"js-fallback","ort":"<version>"}` on stdout once
 * it listens; exits on SIGTERM/SIGINT.
 */
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { uws, uwsNative, type HttpRequest, type HttpResponse, type us_listen_socket } from '../../src/transport/http/uws.js';
import { answer, feeds, ortPackageVersion } from './peer-codec.js';

const require = createRequire(import.meta.url);
// the build the gateway loads (src/transport/http/uws.ts), so the ceiling and the peer run on the same uWS
const native = uwsNative;

const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? '0');
const modelPath = process.argv[4];
if (modelPath === undefined) {
  process.stderr.write('usage: peer-uws-inline.ts host port model.onnx\n');
  process.exit(2);
}

/** Bodies above this are refused while being read (the bench sends ~2 KiB at most). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

const session = await ort.InferenceSession.create(modelPath);

/**
 * One request from its handler to its answer. uWS owns `res` until it is ended or aborted;
 * the body is copied out of uWS's reused chunk buffers as it arrives and is this object's.
 */
class Infer {
  readonly res: HttpResponse;
  readonly model: string;
  /** `inference-header-content-length`, or null for a JSON body */
  readonly headerLength: number | null;
  aborted: boolean;
  received: number;
  chunks: Buffer[];

  constructor(res: HttpResponse, model: string, headerLength: number | null) {
    this.res = res;
    this.model = model;
    this.headerLength = headerLength;
    this.aborted = false;
    this.received = 0;
    this.chunks = [];
  }

  onData(chunk: ArrayBuffer, isLast: boolean): void {
    if (this.aborted) return;
    this.received += chunk.byteLength;
    if (this.received > MAX_BODY_BYTES) {
      this.aborted = true;
      this.res.cork(() => this.res.writeStatus('413 Payload Too Large').writeHeader('content-type', 'application/json').end('{"error":"body too large"}', true));
      return;
    }
    // uWS reuses the chunk's memory after this callback returns: copy it.
    this.chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (isLast) this.run().catch((e: unknown) => this.send('500 Internal Server Error', error(e)));
  }

  async run(): Promise<void> {
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [];
    let input: Record<string, ort.Tensor>;
    try {
      input = feeds(body, this.headerLength);
    } catch (e) {
      this.send('400 Bad Request', error(e));
      return;
    }
    this.send('200 OK', answer(this.model, await session.run(input)));
  }

  /** Outside the handler's callback, so corked. end() queues the whole (small) answer: no tryEnd needed. */
  send(status: string, text: string): void {
    if (this.aborted) return;
    this.res.cork(() => this.res.writeStatus(status).writeHeader('content-type', 'application/json').end(text));
  }
}

const error = (e: unknown): string => JSON.stringify({ error: e instanceof Error ? e.message : String(e) });

function infer(res: HttpResponse, req: HttpRequest): void {
  // the request object is valid only in this callback: read what is needed now
  const header = req.getHeader('inference-header-content-length');
  const request = new Infer(res, req.getParameter(0) ?? '', header === '' ? null : Number(header));
  res.onAborted(() => {
    request.aborted = true;
  });
  res.onData((chunk, isLast) => request.onData(chunk, isLast));
}

const app = uws.App();
app.post('/v2/models/:model/infer', infer);
app.post('/v2/models/:model/versions/:version/infer', infer);
app.any('/*', (res) => {
  res.writeStatus('404 Not Found').writeHeader('content-type', 'application/json').end('{"error":"not found"}');
});

let listenSocket: us_listen_socket | null = null;
app.listen(host, port, (token) => {
  if (token === false) {
    process.stderr.write(`peer-uws-inline: cannot listen on ${host}:${port}\n`);
    process.exit(1);
  }
  listenSocket = token;
  const bound = uws.us_socket_local_port(token as unknown as Parameters<typeof uws.us_socket_local_port>[0]);
  process.stdout.write(`${JSON.stringify({ port: bound, uws: native ? 'native' : 'js-fallback', ort: ortPackageVersion(require) })}\n`);
});

function stop(): void {
  if (listenSocket !== null) uws.us_listen_socket_close(listenSocket);
  listenSocket = null;
  // open keep-alive connections would keep the loop alive: exit now
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
