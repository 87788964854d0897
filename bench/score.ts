/**
 * `switchyard score` on the heavy model against the compute ceiling, in the same run:
 * bench/servers/raw-ort.ts (session.run back to back in process, batch sizes 16/32/64: the
 * best is the ceiling) and `node bin/switchyard.js score` on a JSONL file of heavy rows (one
 * row of 512 FP32 per line) through the in-process gateway, whose batcher forms the batches.
 * Rounds alternate the two, so that a neighbour's load on a shared machine hits both.
 *
 *   npx tsx bench/score.ts [rows=20000] [rounds=2] [concurrency=256]
 *
 * Prints the machine, each measurement, and score's rows/s as a share of raw ORT's best
 * (issue 16's goal: ≥ 85%). score's rate counts from its first row to its last answer
 * written (the gateway's start and model load are not in it).
 */
import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { runRawOrt } from './lib/ceiling.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'switchyard.js');
const MODELS = path.join(ROOT, 'examples', 'models');
const WIDTH = 512;
const BATCHES = [16, 32, 64];

const rows = Number(process.argv[2] ?? 20000);
const rounds = Number(process.argv[3] ?? 2);
const concurrency = Number(process.argv[4] ?? 256);

async function writeInput(file: string): Promise<void> {
  const out = createWriteStream(file);
  let s = 12345;
  for (let i = 0; i < rows; i++) {
    let line = '{"x":[';
    for (let j = 0; j < WIDTH; j++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      line += (j > 0 ? ',' : '') + ((s / 0xffffffff) * 2 - 1).toFixed(4);
    }
    if (!out.write(line + ']}\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

function score(config: string, input: string, output: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, 'score', '--config', config, '-m', 'heavy', '-i', input, '-o', output, '--overwrite', '--concurrency', String(concurrency)], { cwd: ROOT, env: { ...process.env, MALLOC_ARENA_MAX: '1' }, maxBuffer: 1 << 20 }, (err, _stdout, stderr) => {
      const m = /done, (\d+) rows: (\d+) ok, \d+ failed in [\d.]+ s, (\d+) rows\/s/.exec(stderr);
      if (err !== null || m === null || Number(m[2]) !== rows) reject(new Error(`score failed: ${err?.message ?? ''}\n${stderr}`));
      else resolve(Number(m[3]));
    });
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-bench-score-'));
try {
  const cpus = os.cpus();
  process.stdout.write(`machine: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}\n`);
  const config = path.join(dir, 'switchyard.yaml');
  writeFileSync(config, stringify({ model_repository: MODELS, log_level: 'error', request_log: { sinks: [] } }));
  const input = path.join(dir, 'heavy.jsonl');
  await writeInput(input);
  process.stdout.write(`input: ${rows} heavy rows (512 FP32 each), concurrency ${concurrency}\n`);
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const raw = await runRawOrt(ROOT, { model: path.join(MODELS, 'heavy', '1', 'model.onnx'), input: 'x', width: WIDTH, batches: BATCHES, seconds: 3 });
    const best = raw.results.reduce((a, b) => (b.rowsPerSec > a.rowsPerSec ? b : a));
    const rate = await score(config, input, path.join(dir, 'out.jsonl'));
    const ratio = rate / best.rowsPerSec;
    ratios.push(ratio);
    process.stdout.write(
      `round ${round}: raw-ort ${raw.results.map((r) => `b${r.batch} ${r.rowsPerSec.toFixed(0)}`).join(', ')} rows/s (best b${best.batch}); score ${rate} rows/s = ${(ratio * 100).toFixed(0)}% of raw ORT\n`,
    );
  }
  ratios.sort((a, b) => a - b);
  process.stdout.write(`score / raw ORT best: median ${(ratios[Math.floor(ratios.length / 2)] * 100).toFixed(0)}% over ${rounds} round(s) (goal ≥ 85%)\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
