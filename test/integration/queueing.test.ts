import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_MODELS, histogram, postJson, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let repo: string;

/** heavy, one request per batch, one instance on one thread: requests queue up behind each other */
beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), 'switchyard-queue-'));
  cpSync(join(EXAMPLE_MODELS, 'heavy'), join(repo, 'heavy'), { recursive: true });
  cpSync(join(EXAMPLE_MODELS, 'heavy'), join(repo, 'small_queue'), { recursive: true });
  writeFileSync(join(repo, 'heavy', 'config.yaml'), 'max_batch_size: 1\ninstance_count: 1\nintra_op_threads: 1\n');
  writeFileSync(
    join(repo, 'small_queue', 'config.yaml'),
    'max_batch_size: 1\ninstance_count: 1\nintra_op_threads: 1\ndynamic_batching: { max_queue_size: 4 }\n',
  );
  t = await startTestServer({}, repo);
});
afterAll(async () => {
  await t.stop();
  rmSync(repo, { recursive: true, force: true });
});

function heavyRequest(parameters: Record<string, unknown> = {}): Record<string, unknown> {
  return { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 512], data: new Array(512).fill(0.01) }], parameters };
}

describe('queue limits', () => {
  it('answers 429 with Retry-After when the queue is full, and serves the rest', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, () => postJson(`${t.url}/v2/models/small_queue/infer`, heavyRequest())));
    const full = results.filter((r) => r.status === 429);
    const ok = results.filter((r) => r.status === 200);
    expect(full.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThan(0);
    expect(full.length + ok.length).toBe(60);
    expect(full[0].headers.get('retry-after')).toBe('1');
    expect(full[0].json.error).toMatch(/queue is full \(max_queue_size 4\)/);
  });

  it('answers 504 when a request waits past its timeout, and never runs it', async () => {
    // 100 requests behind one instance that runs one at a time: all but the first few wait
    // longer than 50 us in the queue
    const metrics = async (): Promise<number> => histogram(await (await fetch(`${t.url}/metrics`)).text(), 'switchyard_batch_size', 'model="heavy"').sum;
    const before = await metrics();
    const results = await Promise.all(Array.from({ length: 100 }, () => postJson(`${t.url}/v2/models/heavy/infer`, heavyRequest({ timeout: 50 }))));
    const timedOut = results.filter((r) => r.status === 504);
    const ok = results.filter((r) => r.status === 200);
    expect(timedOut.length).toBeGreaterThan(0);
    expect(timedOut[0].json.error).toMatch(/timed out after 50 us/);
    expect(ok.length + timedOut.length).toBe(100);
    // the timed-out requests never ran: the model executed exactly the rows of the answered ones
    expect((await metrics()) - before).toBe(ok.length);
  });

  it('rejects a malformed timeout or priority', async () => {
    expect((await postJson(`${t.url}/v2/models/heavy/infer`, heavyRequest({ timeout: -5 }))).status).toBe(400);
    expect((await postJson(`${t.url}/v2/models/heavy/infer`, heavyRequest({ priority: 'high' }))).status).toBe(400);
  });
});

describe('client disconnects', () => {
  it('removes a request whose client went away from the queue; it never runs', async () => {
    const rows = async (): Promise<number> => histogram(await (await fetch(`${t.url}/metrics`)).text(), 'switchyard_batch_size', 'model="heavy"').sum;
    const before = await rows();
    const controllers = Array.from({ length: 200 }, () => new AbortController());
    let answered = 0;
    const requests = controllers.map((c, i) =>
      fetch(`${t.url}/v2/models/heavy/infer`, { method: 'POST', body: JSON.stringify(heavyRequest()), signal: c.signal }).then(
        async (r) => {
          try {
            await r.arrayBuffer();
          } catch {
            return 'aborted'; // its headers came, then this test hung up on it while the body was read
          }
          answered++;
          // as soon as the first answers arrive, every other client hangs up
          if (answered === 1) controllers.forEach((k, j) => j !== i && k.abort());
          return r.status;
        },
        () => 'aborted',
      ),
    );
    const outcomes = await Promise.all(requests);
    const aborted = outcomes.filter((o) => o === 'aborted').length;
    expect(aborted).toBeGreaterThan(100);
    // wait until the server has noticed every disconnect and the queue is empty
    const served = t.server.gateway.repository.resolve('heavy', null);
    for (let i = 0; i < 100 && (served.scheduler.queued > 0 || served.scheduler.inflight > 0); i++) await new Promise((r) => setTimeout(r, 20));
    expect(served.scheduler.queued).toBe(0);
    const ran = (await rows()) - before;
    // the model ran the answered requests and at most a few that were already dispatched
    expect(ran).toBeLessThan(200 - aborted / 2);
    expect((await postJson(`${t.url}/v2/models/heavy/infer`, heavyRequest())).status).toBe(200);
  });
});
