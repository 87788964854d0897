import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { heavyModel } from '../../examples/lib/models.js';
import { EXAMPLE_MODELS } from '../helpers/server.js';

const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));
let dir: string;
let child: ChildProcess;
let url: string;

/**
 * The real server in its own process, so its RSS is its own. It runs with the allocator
 * setting the README recommends (MALLOC_ARENA_MAX=1): with glibc's default of 8 arenas per
 * core, memory freed by retired model threads stays spread over per-thread arenas and RSS
 * wanders by tens of MiB even though nothing leaks.
 */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-rss-'));
  // heavy with 6 layers (its weights, one sixth of the MatMuls): each reload's ORT
  // allocations are what move RSS between samples, and the 48-layer example's prepacked
  // weights made single blocks wander by ±30 MiB
  for (const name of ['heavy', 'heavy_copy']) {
    cpSync(join(EXAMPLE_MODELS, 'heavy'), join(dir, 'models', name), { recursive: true });
    writeFileSync(join(dir, 'models', name, '1', 'model.onnx'), heavyModel(6));
  }
  writeFileSync(join(dir, 'switchyard.yaml'), 'http: { host: 127.0.0.1, port: 0 }\nmodel_repository: ./models\nlog_level: info\n');
  const env: NodeJS.ProcessEnv = { ...process.env, MALLOC_ARENA_MAX: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('SWITCHYARD_')) delete env[k];
  // --expose-gc: the server collects after retiring a version, so RSS shows what is retained,
  // not when V8 last chose to collect (it cannot see the native memory retired workers held,
  // and on some runs went 150 reloads without a major collection)
  child = spawn(process.execPath, ['--expose-gc', BIN, 'serve', '--config', join(dir, 'switchyard.yaml')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"msg":"switchyard listening","http":"[^"]*:(\d+)"/.exec(buf);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${buf}`)));
  });
});

afterAll(() => {
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function threads(): number {
  return Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]);
}

function rss(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

async function admin(path: string): Promise<number> {
  const r = await fetch(`${url}${path}`, { method: 'POST' });
  await r.arrayBuffer();
  return r.status;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 500));
const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;

it('keeps RSS within one model instance of the start after 50 reloads', async () => {
  // warm up: the allocator and V8 settle over the first reloads, sooner on some runs than on
  // others; reload in blocks of 10 until a block moves RSS by less than 8 MiB (at most 8 blocks)
  let last = rss();
  for (let block = 0; block < 8; block++) {
    for (let i = 0; i < 10; i++) expect(await admin('/v2/repository/models/heavy/load')).toBe(200);
    await settle();
    const now = rss();
    const moved = Math.abs(now - last);
    last = now;
    if (block >= 1 && moved < 8 * 1048576) break;
  }
  expect(await admin('/v2/repository/models/heavy_copy/unload')).toBe(200);
  await settle();
  // what one loaded instance of the model (worker thread + ONNX Runtime session) costs
  const without = rss();
  expect(await admin('/v2/repository/models/heavy_copy/load')).toBe(200);
  await settle();
  const modelSize = rss() - without;
  expect(await admin('/v2/repository/models/heavy_copy/unload')).toBe(200);
  await settle();
  // RSS after each reload; the trend (least-squares slope) is what a leak would show: single
  // samples wander by several MiB with the garbage collector and the allocator. A leak grows
  // in every block of 50 reloads; the allocator settling late (seen on a fresh install) moves
  // one block and not the next, so up to 3 blocks are measured and the last one is judged.
  const trends: number[] = [];
  const threadsBefore = threads();
  for (let block = 0; block < 3; block++) {
    const samples: number[] = [rss()];
    for (let i = 0; i < 50; i++) {
      expect(await admin('/v2/repository/models/heavy/load')).toBe(200);
      samples.push(rss());
    }
    trends.push(slope(samples) * 50);
    process.stdout.write(`reload RSS: trend ${mib(trends[block])} over 50 reloads (first ${mib(samples[0])}, last ${mib(samples[50])}), one instance ${mib(modelSize)}\n`);
    if (trends[block] < modelSize) break;
  }
  const growth = trends[trends.length - 1];
  // every retired version's worker thread is gone
  expect(threads()).toBeLessThanOrEqual(threadsBefore);
  expect(modelSize).toBeGreaterThan(0);
  expect(growth, `RSS grew ${trends.map(mib).join(', then ')} over blocks of 50 reloads; one model instance is ${mib(modelSize)}`).toBeLessThan(modelSize);
  const infer = await fetch(`${url}/v2/models/heavy/infer`, {
    method: 'POST',
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 512], data: new Array(512).fill(0.5) }] }),
  });
  expect(infer.status).toBe(200);
}, 300_000);

function slope(ys: number[]): number {
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - mx) * (ys[i] - my);
    den += (i - mx) ** 2;
  }
  return num / den;
}
