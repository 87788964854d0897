import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { FileSink, RequestRecord, StdoutSink } from '../../src/telemetry/request-log/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchyard-filesink-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const line = (i: number) => JSON.stringify({ request_id: `r${String(i).padStart(4, '0')}`, pad: 'x'.repeat(40) });
const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

/** Records with ids and errors that need escaping, and a few hundred bytes each. */
function records(from: number, n: number): RequestRecord[] {
  return Array.from({ length: n }, (_, k) => {
    const r = new RequestRecord(`r${from + k}-é"\\`, 'tabular', 'rest');
    r.error = k % 3 === 0 ? `bad "input" ☕ ${'x'.repeat(200)}` : null;
    r.totalUs = 1234.5 + k;
    return r;
  });
}

describe('file sink', () => {
  it('writes records (writeRecords) as the same JSON lines as their toLine(), over batches larger than its first buffer', async () => {
    const file = path.join(dir, 'requests.jsonl');
    const sink = new FileSink({ name: 'file', path: file, maxBytes: 1 << 24, maxFiles: 1 });
    const batches = [records(0, 3), records(3, 400), records(403, 1)];
    for (const b of batches) await sink.writeRecords(b);
    await sink.close();
    expect(linesOf(file)).toEqual(batches.flat().map((r) => r.toLine()));
  });

  it('stdout: writeRecords gives each batch its own bytes (the stream may keep them)', async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const sink = new StdoutSink('stdout', stream);
    const a = records(0, 2);
    const b = records(2, 2);
    await sink.writeRecords(a);
    await sink.writeRecords(b);
    expect(Buffer.concat(chunks).toString('utf8')).toBe([...a, ...b].map((r) => `${r.toLine()}\n`).join(''));
  });

  it('appends JSON lines, creating the folder, after what the file already held', async () => {
    const file = path.join(dir, 'logs', 'deep', 'requests.jsonl');
    const sink = new FileSink({ name: 'file', path: file, maxBytes: 1 << 20, maxFiles: 2 });
    await sink.write([line(0), line(1)]);
    await sink.close();
    const again = new FileSink({ name: 'file', path: file, maxBytes: 1 << 20, maxFiles: 2 });
    await again.write([line(2)]);
    await again.close();
    expect(linesOf(file)).toEqual([line(0), line(1), line(2)]);
  });

  it('rotates by size, keeps max_files rotated files, and loses nothing but the oldest files', async () => {
    const file = path.join(dir, 'requests.jsonl');
    const maxBytes = 1024;
    const sink = new FileSink({ name: 'file', path: file, maxBytes, maxFiles: 2 });
    for (let i = 0; i < 200; i += 4) await sink.write([line(i), line(i + 1), line(i + 2), line(i + 3)]);
    await sink.close();
    expect(readdirSync(dir).sort()).toEqual(['requests.jsonl', 'requests.jsonl.1', 'requests.jsonl.2']);
    for (const f of readdirSync(dir)) expect(statSync(path.join(dir, f)).size).toBeLessThanOrEqual(maxBytes);
    // oldest first: .2, .1, current — consecutive records up to the last one written
    const kept = [...linesOf(`${file}.2`), ...linesOf(`${file}.1`), ...linesOf(file)];
    const ids = kept.map((l) => Number((JSON.parse(l) as { request_id: string }).request_id.slice(1)));
    expect(ids[ids.length - 1]).toBe(199);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, k) => ids[0] + k));
    expect(ids.length).toBeGreaterThan(20);
  });

  it('with max_files 0 it starts over without keeping the old file', async () => {
    const file = path.join(dir, 'requests.jsonl');
    writeFileSync(file, `${'y'.repeat(1000)}\n`);
    const sink = new FileSink({ name: 'file', path: file, maxBytes: 1024, maxFiles: 0 });
    await sink.write([line(1)]);
    await sink.close();
    expect(readdirSync(dir)).toEqual(['requests.jsonl']);
    expect(linesOf(file)).toEqual([line(1)]);
  });

  it('a write that cannot be done rejects (the writer counts the records as dropped)', async () => {
    writeFileSync(path.join(dir, 'not-a-dir'), '');
    const sink = new FileSink({ name: 'file', path: path.join(dir, 'not-a-dir', 'requests.jsonl'), maxBytes: 1024, maxFiles: 1 });
    await expect(sink.write([line(1)])).rejects.toThrow();
    await sink.close();
  });
});
