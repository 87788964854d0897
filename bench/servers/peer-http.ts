/**
 * The peer: the server a Node user would write instead of running a gateway. node:http,
 * one onnxruntime-node session created with ORT's defaults, `session.run()` once per request
 * (no batching, no worker threads), KServe v2 JSON or Triton's binary extension in and JSON out
 * (servers/peer-codec.ts, shared with the uWS peer).
 * It answers the same `POST /v2/models/:model/infer` the switchyard cases do, so the same load
 * generator drives both.
 *
 * Runs as its own process: `node --import tsx bench/servers/peer-http.ts host port model.onnx`.
 * Prints one line `{"port":N,"ort":"<version>"}` on stdout once it listens; exits on SIGTERM/SIGINT.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { answer, feeds, ortPackageVersion } from './peer-codec.js';

const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? '0');
const modelPath = process.argv[4];
if (modelPath === undefined) {
  process.stderr.write('usage: peer-http.ts host port model.onnx\n');
  process.exit(2);
}

const session = await ort.InferenceSession.create(modelPath);
const ortVersion = ortPackageVersion(createRequire(import.meta.url));

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: message }));
}

async function infer(req: IncomingMessage, res: ServerResponse, model: string): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  const header = req.headers['inference-header-content-length'];
  let input: Record<string, ort.Tensor>;
  try {
    input = feeds(body, typeof header === 'string' ? Number(header) : null);
  } catch (e) {
    fail(res, 400, e instanceof Error ? e.message : String(e));
    return;
  }
  const text = answer(model, await session.run(input));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const INFER = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?\/infer$/;

const server = createServer((req, res) => {
  const m = req.method === 'POST' ? INFER.exec(req.url ?? '') : null;
  if (m === null) {
    fail(res, 404, 'not found');
    return;
  }
  infer(req, res, m[1]).catch((e: unknown) => fail(res, 500, e instanceof Error ? e.message : String(e)));
});
server.keepAliveTimeout = 60_000;

server.listen(port, host, () => {
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  process.stdout.write(`${JSON.stringify({ port: bound, ort: ortVersion })}\n`);
});

function stop(): void {
  // open keep-alive connections would keep the loop alive: exit now
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
