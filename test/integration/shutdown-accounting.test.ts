/**
 * SIGTERM under steady keep-alive load (issue 14 item 14): every request that got an answer,
 * 200 or the draining 503, is in the request log; each 503 closes its connection
 * (`Connection: close`), so clients go elsewhere instead of sending more to a stopping
 * gateway. Runs the real CLI; the request log is a file sink in a temp folder.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { afterAll, expect, it } from 'vitest';
import { serve } from '../helpers/cli.js';
import { EXAMPLE_MODELS, tabularRequest, tabularRows } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-shutdown-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Answer {
  id: string;
  status: number;
  connection: string;
}

it('logs every answered request through a SIGTERM under load, and closes connections with the draining 503s', async () => {
  const logFile = join(dir, 'requests.jsonl');
  const config = join(dir, 'switchyard.yaml');
  writeFileSync(
    config,
    stringify({
      http: { host: '127.0.0.1', port: 0 },
      grpc: { enabled: false },
      model_repository: EXAMPLE_MODELS,
      log_level: 'info',
      drain_timeout_s: 5,
      request_log: { sinks: [{ type: 'file', path: logFile }] },
    }),
  );
  const { child, port } = await serve(['--config', config], {});
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const body = JSON.stringify(tabularRequest(tabularRows(1)));
  const answers: Answer[] = [];
  let failedToConnect = 0;
  let stopping = false;
  let seq = 0;
  // 16 clients, each on its own keep-alive connection, one request after the other until the
  // gateway is gone; a client whose connection was closed opens a new one
  const client = async (c: number): Promise<void> => {
    let agent = new Agent({ connections: 1, pipelining: 1 });
    for (;;) {
      const id = `c${c}-${seq++}`;
      try {
        const r = await request(`http://127.0.0.1:${port}/v2/models/tabular/infer`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-request-id': id },
          dispatcher: agent,
        });
        await r.body.text();
        answers.push({ id, status: r.statusCode, connection: String(r.headers.connection ?? '') });
        if (r.statusCode !== 200) {
          await agent.close();
          agent = new Agent({ connections: 1, pipelining: 1 });
        }
      } catch {
        if (!stopping) throw new Error(`request ${id} failed before the stop`);
        failedToConnect++;
        if (failedToConnect > 2000) break;
        await agent.destroy().catch(() => undefined);
        // a refused connection after the listener closed: this client is done
        break;
      }
    }
    await agent.destroy().catch(() => undefined);
  };
  const clients = Array.from({ length: 16 }, (_, c) => client(c));
  // let the load run, then stop the gateway in the middle of it
  while (answers.length < 400) await new Promise((r) => setTimeout(r, 10));
  stopping = true;
  child.kill('SIGTERM');
  await Promise.all(clients);
  expect(await exited).toBe(0);

  const statuses = new Map<number, number>();
  for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  // every answer was a success or the draining 503, and some of each came
  expect([...statuses.keys()].every((s) => s === 200 || s === 503)).toBe(true);
  expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
  expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
  for (const a of answers) if (a.status === 503) expect(a.connection).toBe('close');

  const logged = new Map<string, string>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (line === '') continue;
    const rec = JSON.parse(line) as { request_id: string; status: string };
    logged.set(rec.request_id, rec.status);
  }
  const missing = answers.filter((a) => !logged.has(a.id));
  expect(missing.map((a) => `${a.id} ${a.status}`)).toEqual([]);
  for (const a of answers) expect(logged.get(a.id)).toBe(a.status === 200 ? 'success' : 'SY_ERR_DRAINING');
}, 60_000);
