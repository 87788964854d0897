/**
 * The HTTP port belongs to one gateway: a second one on the same port fails at startup
 * (uWS would otherwise set SO_REUSEPORT and the two would split the traffic silently),
 * unless both ask for http.reuse_port, and then both serve.
 */
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { serve } from '../helpers/cli.js';
import { EXAMPLE_MODELS, postJson, startTestServer, tabularRequest, tabularRows } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-port-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('HTTP port ownership', () => {
  it('a second gateway on a taken port fails at startup, naming the port; the first keeps serving', async () => {
    const first = await startTestServer();
    try {
      const port = first.server.httpPort;
      await expect(startTestServer({ http: { host: '127.0.0.1', port } })).rejects.toThrow(
        `cannot listen on http 127.0.0.1:${port} (in use (another gateway? set http.reuse_port: true to share it on purpose), or not allowed)`,
      );
      expect((await postJson(`${first.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)))).status).toBe(200);
    } finally {
      await first.stop();
    }
  });

  it('two processes with http.reuse_port: true share the port and both serve', async () => {
    const port = await freePort();
    const file = join(dir, 'shared.yaml');
    writeFileSync(
      file,
      stringify({ http: { host: '127.0.0.1', port, reuse_port: true }, grpc: { host: '127.0.0.1', port: 0 }, model_repository: EXAMPLE_MODELS, log_level: 'info', request_log: { sinks: [] }, state_dir: null }),
    );
    const a = await serve(['--config', file], {});
    const b = await serve(['--config', file], {});
    try {
      const grpcPort = (logs: string[]) => Number(JSON.parse(logs.find((l) => l.includes('switchyard listening'))!).grpc.split(':').pop());
      // a fresh connection per request, so the kernel picks a listener each time
      const n = 60;
      for (let i = 0; i < n; i++) {
        const r = await fetch(`http://127.0.0.1:${port}/v2/models/tabular/infer`, { method: 'POST', body: JSON.stringify(tabularRequest(tabularRows(1))), headers: { connection: 'close' } });
        expect(r.status).toBe(200);
      }
      const counts: number[] = [];
      for (const p of [grpcPort(a.logs), grpcPort(b.logs)]) {
        const c = new GrpcInferenceClient(`127.0.0.1:${p}`);
        try {
          const s = await c.unary('modelStatistics', { name: 'tabular' });
          counts.push(s.modelStats.reduce((sum, m) => sum + Number(m.inferenceCount), 0));
        } finally {
          c.close();
        }
      }
      expect(counts[0] + counts[1]).toBe(n);
      expect(Math.min(...counts)).toBeGreaterThan(0);
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
    }
  });
});
