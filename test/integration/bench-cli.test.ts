/**
 * `switchyard bench` as a user runs it (node bin/switchyard.js bench …): refuses an
 * unreachable URL, a missing model and bad options with exit 2 and a clear message before
 * any load runs; a short run prints the table and writes the JSON, markdown and SVG reports;
 * a sweep restarts a local gateway per value.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/loadgen/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let t: TestServer;
let dir: string;

beforeAll(async () => {
  t = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-cli-'));
});

afterAll(async () => {
  await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI without blocking this process (the server under test lives in it). */
function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SWITCHYARD_')) delete env[k];
  const child = spawn(process.execPath, [BIN, 'bench', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('switchyard bench refuses before any load', () => {
  it('an unreachable URL: exit 2, says it cannot reach the server', async () => {
    const port = await closedPort();
    const r = await bench(['--url', `http://127.0.0.1:${port}`, '--model', 'tabular']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`switchyard bench: cannot reach http://127.0.0.1:${port}: ECONNREFUSED; is the server running?\n`);
    expect(r.stdout).toBe('');
  });

  it('an unreachable gRPC address', async () => {
    const port = await closedPort();
    const r = await bench(['--url', t.url, '--grpc-url', `127.0.0.1:${port}`, '--protocol', 'grpc', '--model', 'tabular']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^switchyard bench: cannot reach grpc://127\\.0\\.0\\.1:${port}: UNAVAILABLE .*is the server running`));
  });

  it('a missing model: exit 2 with the server 404 message', async () => {
    const r = await bench(['--url', t.url, '--model', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^switchyard bench: model "nope" not found at ${t.url.replace(/\./g, '\\.')}: 404 Request for unknown model: 'nope' is not found`));
    expect(r.stdout).toBe('');
  });

  it('a bad option: exit 2, what was wrong and the usage', async () => {
    const r = await bench(['--url', t.url, '--model', 'tabular', '--concurrency', '4', '--rate', '100']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('switchyard bench: --concurrency and --rate exclude each other');
    expect(r.stderr).toContain('Usage: switchyard bench [options]');
    const unknown = await bench(['--model', 'tabular', '--concurency', '4']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--concurency'");
  });
});

describe('a short run', () => {
  it('prints the table and writes the JSON, markdown and SVG reports', async () => {
    const [json, md, svg] = ['r.json', 'r.md', 'r.svg'].map((f) => join(dir, f));
    const r = await bench(['--url', t.url, '--model', 'tabular', '--concurrency', '1,4', '--duration', '400ms', '--warmup', '100ms', '--json', json, '--markdown', md, '--plot', svg]);
    expect(r.stderr).not.toContain('switchyard bench:');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^step\s+req\/s\s+p50 ms\s+p90 ms\s+p99 ms\s+p99\.9 ms\s+max ms\s+mean ms\s+errors\s+batch\s+queue ms\s+compute ms\s+client µs\/req\s+client loop$/m);
    expect(r.stdout).toMatch(/^c=1\s+\d/m);
    expect(r.stdout).toMatch(/^c=4\s+\d/m);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.runs[0].steps.map((s) => [s.label, s.failures])).toEqual([
      ['c=1', 0],
      ['c=4', 0],
    ]);
    expect(report.runs[0].steps.every((s) => s.successes > 0 && s.server !== null)).toBe(true);
    // the client's own cost: CPU per request and its event loop's load
    expect(report.runs[0].steps.every((s) => s.client.cpuUsPerRequest > 0 && s.client.eventLoop > 0 && s.client.eventLoop <= 1)).toBe(true);
    expect(readFileSync(md, 'utf8')).toMatch(/^\| c=4 \| \d/m);
    const plot = readFileSync(svg, 'utf8');
    expect(plot.startsWith('<svg')).toBe(true);
    expect(plot).toContain('</svg>');
  });

  it('sweeps a model setting over a restarted local gateway', async () => {
    const json = join(dir, 'sweep.json');
    const r = await bench([
      '--model', 'tabular', '--sweep', 'max_queue_delay_us=0,1000', '--config', 'examples/switchyard.yaml',
      '--concurrency', '2', '--duration', '300ms', '--warmup', '0', '--json', json,
    ]);
    expect(r.stderr).not.toContain('switchyard bench:');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('max_queue_delay_us=0:');
    expect(r.stdout).toContain('max_queue_delay_us=1000:');
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.runs.map((run) => run.sweep)).toEqual([
      { key: 'max_queue_delay_us', value: 0 },
      { key: 'max_queue_delay_us', value: 1000 },
    ]);
    expect(report.runs.every((run) => run.steps[0].successes > 0 && run.steps[0].failures === 0)).toBe(true);
    // each gateway ran on its own ports and is gone
    expect(report.runs[0].url).not.toBe(report.runs[1].url);
    for (const run of report.runs) await expect(fetch(`${run.url}/v2/health/live`)).rejects.toThrow();
    expect(existsSync(json)).toBe(true);
  });
});
