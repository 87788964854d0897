/**
 * The peer: the server a Node user would write instead of running a gateway. node:http,
 * one onnxruntime-node session created with ORT's defaults, `session.run()` once per request
 * (no batching, no worker threads), KServe v2 JSON or Triton's binary extension in and JSON out.
 * It answers the same `POST /v2/models/:model/infer` the switchyard cases do, so the same load
 * generator drives both.
 *
 * Runs as its own process: `node --import tsx bench/servers/peer-http.ts host port model.onnx`.
 * Prints one line `{"port":N,"ort":"<version>"}` on stdout once it listens; exits on SIGTERM/SIGINT.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';

const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? '0');
const modelPath = process.argv[4];
if (modelPath === undefined) {
  process.stderr.write('usage: peer-http.ts host port model.onnx\n');
  process.exit(2);
}

const session = await ort.InferenceSession.create(modelPath);
const require = createRequire(import.meta.url);
const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;

interface V2Input {
  name: string;
  datatype: string;
  shape: number[];
  data?: number[];
}

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: message }));
}

/** FP32 inputs only: what the bench sends. */
function feeds(body: Buffer, headerLength: number | null): Record<string, ort.Tensor> {
  const json = headerLength === null ? body.toString('utf8') : body.toString('utf8', 0, headerLength);
  const req = JSON.parse(json) as { inputs: V2Input[] };
  const out: Record<string, ort.Tensor> = {};
  let offset = headerLength ?? 0;
  for (const input of req.inputs) {
    if (input.datatype !== 'FP32') throw new Error(`input "${input.name}": only FP32 is supported by the peer`);
    const count = input.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (input.data !== undefined) data = Float32Array.from(input.data);
    else {
      // binary extension: the tensor's bytes follow the JSON header in input order
      data = new Float32Array(count);
      new Uint8Array(data.buffer).set(body.subarray(offset, offset + count * 4));
      offset += count * 4;
    }
    out[input.name] = new ort.Tensor('float32', data, input.shape);
  }
  return out;
}

function outputs(result: ort.InferenceSession.ReturnType): unknown[] {
  return Object.entries(result).map(([name, t]) => ({
    name,
    datatype: t.type === 'int64' ? 'INT64' : 'FP32',
    shape: t.dims,
    data: t.type === 'int64' ? Array.from(t.data as BigInt64Array, Number) : Array.from(t.data as Float32Array),
  }));
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
  const result = await session.run(input);
  const text = JSON.stringify({ model_name: model, model_version: '1', outputs: outputs(result) });
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
