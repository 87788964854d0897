/**
 * `switchyard score` as a user runs it (node bin/switchyard.js score …): JSONL and CSV rows
 * through the in-process gateway and through --url, answers in input order with row numbers
 * and request ids, bad rows in the errors file without stopping the run, usage errors with
 * exit 2, and --resume after the process is killed mid-file (every row exactly once).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { BIN, ROOT, cleanEnv } from '../helpers/cli.js';
import { EXAMPLE_MODELS, startTestServer, tabularRows, type TestServer } from '../helpers/server.js';

let dir: string;
let config: string;

/** The example config's feature view and binding, on the example models, without request log files. */
function writeConfig(): string {
  const example = parse(readFileSync(join(ROOT, 'examples', 'switchyard.yaml'), 'utf8')) as { features: { views: Record<string, Record<string, unknown>> }; models: Record<string, unknown> };
  const customer = { ...example.features.views.customer, file: join(ROOT, 'examples', 'features', 'customer.jsonl') };
  const file = join(dir, 'switchyard.yaml');
  writeFileSync(file, stringify({ model_repository: EXAMPLE_MODELS, log_level: 'error', request_log: { sinks: [] }, features: { views: { customer } }, models: example.models }));
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-score-'));
  config = writeConfig();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function score(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [BIN, 'score', '--config', config, ...args], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

interface OutRow {
  row: number;
  id: string;
  model_name: string;
  model_version: string;
  outputs: Record<string, unknown[]>;
}

interface ErrRow {
  row: number;
  line: number;
  code: string;
  error: string;
}

function lines<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}

function writeJsonl(file: string, rows: unknown[]): void {
  writeFileSync(file, rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
}

describe('switchyard score, in process', () => {
  it('JSONL rows, a v2 request line and an entity id row: answers in order, bad rows in the errors file', async () => {
    const xs = tabularRows(300, 7);
    const input = join(dir, 'mixed.jsonl');
    const rows: unknown[] = xs.map((x) => ({ x }));
    rows[10] = { x: [1, 2] }; // row 11: too few values
    rows[20] = 'not json'; // row 21
    rows[30] = { customer_id: 'c7' }; // row 31: features looked up as online
    rows[40] = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 16], data: xs[40] }] }; // row 41: a v2 request
    rows[50] = { x: xs[50].map((v, i) => (i === 3 ? 'abc' : v)) }; // row 51: a wrong value type
    writeJsonl(input, rows);
    const output = join(dir, 'mixed.out.jsonl');
    const r = await score(['--model', 'tabular', '--model-version', '1', '--input', input, '--output', output, '--id-prefix', 'batch-']);
    expect(r.code).toBe(1); // some rows failed
    expect(r.stderr).toMatch(/^switchyard score: done, 300 rows: 297 ok, 3 failed in [\d.]+ s, \d+ rows\/s \(in-process gateway\); reasons in .*mixed\.out\.jsonl\.errors\.jsonl\n$/);
    expect(r.stderr).not.toContain('\r'); // no TTY: no progress line
    const out = lines<OutRow>(output);
    expect(out.map((o) => o.row)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1).filter((n) => n !== 11 && n !== 21 && n !== 51));
    expect(out[0]).toMatchObject({ row: 1, id: 'batch-1', model_name: 'tabular', model_version: '1' });
    expect(out[0].outputs.probabilities).toHaveLength(3);
    expect(out[0].outputs.label).toHaveLength(1);
    const errs = lines<ErrRow>(`${output}.errors.jsonl`);
    expect(errs).toEqual([
      { row: 11, line: 11, code: 'SY_ERR_INVALID_INPUT', error: 'column "x": expected 16 values, got 2' },
      { row: 21, line: 21, code: 'SY_ERR_MALFORMED_JSON', error: 'not valid JSON' },
      { row: 51, line: 51, code: 'SY_ERR_INVALID_INPUT', error: 'column "x[3]": "abc" is not a number (input datatype FP32)' },
    ]);
    // the same answer for a row whatever form it came in
    const single = await score(['--model', 'tabular', '--model-version', '1', '--input', writeOne(xs[40]), '--output', join(dir, 'one.jsonl'), '--overwrite']);
    expect(single.code).toBe(0);
    const one = lines<OutRow>(join(dir, 'one.jsonl'))[0];
    expect(out.find((o) => o.row === 41)!.outputs).toEqual(one.outputs);
  });

  it('CSV with a header row, and with --columns, answers as JSONL does', async () => {
    const xs = tabularRows(200, 3);
    const header = Array.from({ length: 16 }, (_, i) => `x[${i}]`);
    const csv = join(dir, 'rows.csv');
    writeFileSync(csv, [header.join(','), ...xs.map((x) => x.join(','))].join('\n') + '\n');
    const bare = join(dir, 'bare.csv');
    writeFileSync(bare, xs.map((x) => `"${JSON.stringify(x).replace(/"/g, '""')}"`).join('\n') + '\n');
    const jsonl = join(dir, 'rows.jsonl');
    writeJsonl(jsonl, xs.map((x) => ({ x })));
    const a = await score(['-m', 'tabular', '--model-version', '2', '-i', csv, '-o', join(dir, 'a.jsonl')]);
    const b = await score(['-m', 'tabular', '--model-version', '2', '-i', bare, '--columns', 'x', '-o', join(dir, 'b.jsonl')]);
    const c = await score(['-m', 'tabular', '--model-version', '2', '-i', jsonl, '-o', join(dir, 'c.jsonl')]);
    for (const r of [a, b, c]) expect(r.code, r.stderr).toBe(0);
    const outs = ['a', 'b', 'c'].map((n) => lines<OutRow>(join(dir, `${n}.jsonl`)).map((o) => [o.row, o.outputs]));
    expect(outs[0]).toHaveLength(200);
    expect(outs[1]).toEqual(outs[0]);
    expect(outs[2]).toEqual(outs[0]);
    expect(readFileSync(join(dir, 'a.jsonl.errors.jsonl'), 'utf8')).toBe('');
  });

  it('usage errors exit 2 and say what was wrong and what to do', async () => {
    const csv = join(dir, 'unknown.csv');
    writeFileSync(csv, 'a,x[0]\n1,2\n');
    const out = join(dir, 'u.jsonl');
    const cases: [string[], string][] = [
      [['-m', 'nosuch', '-i', csv, '-o', out], '--model nosuch: not served by the gateway of this config; served: '],
      [['-m', 'tabular', '-i', join(dir, 'missing.csv'), '-o', out], `--input ${join(dir, 'missing.csv')}: the file does not exist`],
      [['-m', 'tabular', '-i', join(dir, 'rows.txt'), '-o', out], 'expected a .jsonl (or .ndjson) file of JSON objects, or a .csv file with a header row'],
      [['-m', 'tabular', '-i', csv, '-o', out], 'unknown column "a"; the model takes input columns x (an array of 16) or x[0] … x[15]; entity id column customer_id'],
      [['-m', 'tabular', '-i', csv, '-o', out, '--concurrency', '0'], '--concurrency 0: expected a whole number'],
      [['-m', 'tabular', '-i', join(dir, 'rows.csv'), '-o', join(dir, 'a.jsonl')], 'exists: pass --resume to continue that run, or --overwrite to start again'],
    ];
    for (const [args, message] of cases) {
      const r = await score(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(existsSync(out)).toBe(false);
  });
});

function writeOne(x: number[]): string {
  const f = join(dir, 'one-row.jsonl');
  writeJsonl(f, [{ x }]);
  return f;
}

describe('switchyard score --resume', () => {
  it('after a SIGKILL mid-file, every row is written exactly once, in order', async () => {
    const n = 40_000;
    const xs = tabularRows(n, 11);
    const input = join(dir, 'big.jsonl');
    const rows: unknown[] = xs.map((x) => ({ x }));
    for (let i = 999; i < n; i += 1000) rows[i] = { x: 'bad' }; // a failed row every 1000
    writeJsonl(input, rows);
    const output = join(dir, 'big.out.jsonl');
    const child = spawn(process.execPath, [BIN, 'score', '--config', config, '-m', 'tabular', '--model-version', '1', '-i', input, '-o', output, '--concurrency', '64'], { cwd: ROOT, env: cleanEnv(), stdio: 'ignore' });
    // killed once some output is written, well before the end
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (existsSync(output) && statSync(output).size > 300_000) {
          clearInterval(t);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
      child.once('exit', (code) => {
        clearInterval(t);
        reject(new Error(`score finished (code ${code}) before it was killed; give it more rows`));
      });
    });
    await new Promise((r) => child.once('close', r));
    const partial = readFileSync(output, 'utf8').split('\n').filter((l) => l !== '').length;
    expect(partial).toBeLessThan(n - n / 1000);

    const r = await score(['-m', 'tabular', '--model-version', '1', '-i', input, '-o', output, '--resume']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/done before, resumed/);
    const out = lines<OutRow>(output);
    const errs = lines<ErrRow>(`${output}.errors.jsonl`);
    const failed = Array.from({ length: n / 1000 }, (_, k) => 1000 * (k + 1));
    expect(errs.map((e) => e.row)).toEqual(failed);
    expect(out.map((o) => o.row)).toEqual(Array.from({ length: n }, (_, i) => i + 1).filter((row) => row % 1000 !== 0));
    // the answers equal a run without interruption
    const clean = join(dir, 'big.clean.jsonl');
    await score(['-m', 'tabular', '--model-version', '1', '-i', input, '-o', clean]);
    expect(out.map((o) => o.outputs)).toEqual(lines<OutRow>(clean).map((o) => o.outputs));
  }, 120_000);
});

describe('switchyard score --url', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  it('scores against a running gateway with the same answers as in process', async () => {
    const xs = tabularRows(500, 5);
    const input = join(dir, 'url.jsonl');
    writeJsonl(input, [...xs.map((x) => ({ x })), { x: [true] }]);
    const viaUrl = join(dir, 'url.out.jsonl');
    const local = join(dir, 'local.out.jsonl');
    const a = await score(['-m', 'tabular', '--model-version', '1', '-i', input, '-o', viaUrl, '--url', t.url, '--concurrency', '32']);
    const b = await score(['-m', 'tabular', '--model-version', '1', '-i', input, '-o', local]);
    expect(a.stderr).toContain(`(${t.url})`);
    expect(a.code).toBe(1);
    expect(b.code).toBe(1);
    const strip = (f: string): unknown[] => lines<OutRow>(f).map((o) => [o.row, o.model_version, o.outputs]);
    expect(strip(viaUrl)).toHaveLength(500);
    expect(strip(viaUrl)).toEqual(strip(local));
    expect(lines<ErrRow>(`${viaUrl}.errors.jsonl`)).toEqual(lines<ErrRow>(`${local}.errors.jsonl`));
    expect(lines<OutRow>(viaUrl)[0].id).toMatch(/^score-.*-1$/);
  });
});
