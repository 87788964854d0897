import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { heavyModel } from '../../examples/lib/models.js';
import { EXAMPLE_MODELS } from '../helpers/server.js';

const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));
const RELOADS = 500;
/**
 * RSS moves within a band of about ±10% of itself as V8 grows and collects its heap and the
 * allocator reuses what retired workers freed (245-304 MiB over 500 reloads, sampled every 10,
 * after the fix). The level after the first WINDOW reloads is the highest sample among them;
 * the level after RELOADS is the median of the samples in the last WINDOW, so a collection or
 * a spike at one sample does not decide the test; a leak moves the whole band.
 */
const WINDOW = 50;
const SAMPLE_EVERY = 10;
/** the level after RELOADS may exceed the level after the first WINDOW by this fraction at most */
const BOUND = 0.15;

let dir: string;
let child: ChildProcess;
let url: string;

/**
 * The real server in its own process, so its RSS is its own, started as `npm start` starts it:
 * MALLOC_ARENA_MAX=1 and no V8 flags. In particular no --expose-gc: a reload that leaves native
 * memory to unreachable JS objects (piscina's timing histograms did, 0.69 MiB a reload) only
 * leaks while V8 sees no reason to collect, which a collection after every reload would hide.
 */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-rss-'));
  // heavy with 6 layers (its weights, one sixth of the MatMuls): each reload constant-folds the
  // six weights (tens of MiB of ORT allocations), as the 48-layer example does, in a third of
  // the time (500 reloads in about a minute on 2 cores)
  cpSync(join(EXAMPLE_MODELS, 'heavy'), join(dir, 'models', 'heavy'), { recursive: true });
  writeFileSync(join(dir, 'models', 'heavy', '1', 'model.onnx'), heavyModel(6));
  writeFileSync(
    join(dir, 'switchyard.yaml'),
    'http: { host: 127.0.0.1, port: 0 }\ngrpc: { host: 127.0.0.1, port: 0 }\nmodel_repository: ./models\nlog_level: info\nrequest_log: { sinks: [] }\n',
  );
  const env: NodeJS.ProcessEnv = { ...process.env, MALLOC_ARENA_MAX: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('SWITCHYARD_') || k.startsWith('NODE_')) delete env[k];
  child = spawn(process.execPath, [BIN, 'serve', '--config', join(dir, 'switchyard.yaml')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"msg":"switchyard listening","http":"[^"]*:(\d+)"/.exec(buf);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on('exit', (code, signal) => reject(new Error(`serve exited with ${code ?? signal}: ${buf}`)));
  });
});

afterAll(() => {
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function status(field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return Number(m![1]);
}

const rss = (): number => status('VmRSS') * 1024;

async function admin(path: string): Promise<number> {
  const r = await fetch(`${url}${path}`, { method: 'POST' });
  await r.arrayBuffer();
  return r.status;
}

/** The server's JS heap in use (prom-client's default metric), for the report: no collection is forced. */
async function heapUsed(): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^switchyard_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN);
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 500));
const mib = (n: number): string => (n / 1048576).toFixed(0);

it(`keeps RSS within ${BOUND * 100}% of its level after ${WINDOW} reloads over ${RELOADS} reloads`, async () => {
  const threadsAtStart = status('Threads');
  const first: number[] = [];
  const last: number[] = [];
  const curve: string[] = [];
  for (let i = 1; i <= RELOADS; i++) {
    expect(await admin('/v2/repository/models/heavy/load')).toBe(200);
    const inWindow = i <= WINDOW || i > RELOADS - WINDOW;
    if (i % SAMPLE_EVERY !== 0 || (!inWindow && i % WINDOW !== 0)) continue;
    await settle();
    const now = rss();
    if (i <= WINDOW) first.push(now);
    if (i > RELOADS - WINDOW) last.push(now);
    if (i % WINDOW === 0) curve.push(`${i}: ${mib(now)} (heap ${mib(await heapUsed())})`);
  }
  const start = Math.max(...first);
  const end = median(last);
  process.stdout.write(`reload RSS MiB after n reloads: ${curve.join(', ')}; first ${WINDOW} at most ${mib(start)}, last ${WINDOW} median ${mib(end)}\n`);
  // every retired version's worker thread is gone
  expect(status('Threads')).toBeLessThanOrEqual(threadsAtStart);
  expect(
    end,
    `RSS over the last ${WINDOW} of ${RELOADS} reloads is ${mib(end)} MiB (median), ${(((end - start) / start) * 100).toFixed(0)}% above the ${mib(start)} MiB of the first ${WINDOW}: ${curve.join(', ')}`,
  ).toBeLessThanOrEqual(start * (1 + BOUND));
  const infer = await fetch(`${url}/v2/models/heavy/infer`, {
    method: 'POST',
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 512], data: new Array(512).fill(0.5) }] }),
  });
  expect(infer.status).toBe(200);
}, 240_000);

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
