/**
 * The ceiling: the fastest a uWebSockets.js server on this machine answers the benchmark's
 * request, with no protocol decoding, no batching and no model. It accepts the same
 * `POST /v2/models/:model/infer`, reads the whole body (copying each chunk, as a real
 * server must) and answers a small fixed JSON shaped like a one-row infer response.
 *
 * Runs as its own process: `node --import tsx bench/servers/hello-uws.ts [host] [port]`.
 * Prints one line `{"port":N,"uws":"native"|"js-fallback"}` on stdout once it listens;
 * exits on SIGTERM/SIGINT.
 */
import { uws, uwsNative, type us_listen_socket } from '../../src/transport/http/uws.js';

// the build the gateway loads (src/transport/http/uws.ts), so the ceiling and the peer run on the same uWS
const native = uwsNative;

const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? '0');

const RESPONSE = JSON.stringify({
  model_name: 'tabular',
  model_version: '1',
  outputs: [
    { name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: [0.25, 0.5, 0.25] },
    { name: 'label', datatype: 'INT64', shape: [1], data: [1] },
  ],
});

const app = uws.App();

app.post('/v2/models/:model/infer', (res) => {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const chunks: Buffer[] = [];
  res.onData((chunk, isLast) => {
    // uWS reuses the chunk's memory after this callback returns: copy it.
    chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (!isLast || aborted) return;
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (body.byteLength === 0) {
      res.cork(() => res.writeStatus('400 Bad Request').end('{"error":"empty body"}'));
      return;
    }
    res.cork(() => {
      res.writeStatus('200 OK');
      res.writeHeader('content-type', 'application/json');
      res.end(RESPONSE);
    });
  });
});

app.any('/*', (res) => {
  res.writeStatus('404 Not Found').end('{"error":"not found"}');
});

let listenSocket: us_listen_socket | null = null;
app.listen(host, port, (token) => {
  if (token === false) {
    process.stderr.write(`hello-uws: cannot listen on ${host}:${port}\n`);
    process.exit(1);
  }
  listenSocket = token;
  const bound = uws.us_socket_local_port(token as unknown as Parameters<typeof uws.us_socket_local_port>[0]);
  process.stdout.write(`${JSON.stringify({ port: bound, uws: native ? 'native' : 'js-fallback' })}\n`);
});

function stop(): void {
  if (listenSocket !== null) uws.us_listen_socket_close(listenSocket);
  listenSocket = null;
  // Open keep-alive connections would keep the loop alive: exit now, nothing is in flight.
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
