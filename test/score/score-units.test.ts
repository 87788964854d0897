/**
 * The parts of `switchyard score` that have cases: how a resumed run finds where to go on
 * (a partial last line, failed rows after the last answer), and how row values become
 * tensors (by datatype, with the column named in every refusal).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RowMapper, ScoreFiles, ScoreUsageError } from '../../src/score/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-score-unit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ScoreFiles --resume', () => {
  it('cuts a partial last line and the failed rows after the last answer, and skips the rows before', async () => {
    const out = join(dir, 'o.jsonl');
    const err = join(dir, 'e.jsonl');
    writeFileSync(out, '{"row":1,"id":"a"}\n{"row":2,"id":"b"}\n{"row":4,"id":"d"}\n{"row":5,"i');
    writeFileSync(err, '{"row":3,"error":"x"}\n{"row":6,"error":"y"}\n{"row":7,"err');
    const f = await ScoreFiles.open({ output: out, errors: err, resume: true, overwrite: false });
    expect(f.skip).toBe(4);
    expect(f.skippedErrors).toBe(1);
    f.ok('{"row":5,"id":"e"}');
    f.failed('{"row":6,"error":"y"}');
    await f.close();
    expect(readFileSync(out, 'utf8')).toBe('{"row":1,"id":"a"}\n{"row":2,"id":"b"}\n{"row":4,"id":"d"}\n{"row":5,"id":"e"}\n');
    expect(readFileSync(err, 'utf8')).toBe('{"row":3,"error":"x"}\n{"row":6,"error":"y"}\n');
  });

  it('resumes from nothing when the output is missing or empty, and refuses a file it did not write', async () => {
    const f = await ScoreFiles.open({ output: join(dir, 'new.jsonl'), errors: join(dir, 'new.err'), resume: true, overwrite: false });
    expect(f.skip).toBe(0);
    await f.close();
    const foreign = join(dir, 'foreign.jsonl');
    writeFileSync(foreign, '{"a":1}\n');
    await expect(ScoreFiles.open({ output: foreign, errors: join(dir, 'f.err'), resume: true, overwrite: false })).rejects.toThrow(ScoreUsageError);
  });

  it('finds the last line across read blocks (long lines)', async () => {
    const out = join(dir, 'long.jsonl');
    const pad = 'x'.repeat(100_000);
    writeFileSync(out, `{"row":1,"p":"${pad}"}\n{"row":2,"p":"${pad}"}\n{"row":3,"p":"${pad.slice(0, 500)}`);
    const f = await ScoreFiles.open({ output: out, errors: join(dir, 'long.err'), resume: true, overwrite: false });
    expect(f.skip).toBe(2);
    await f.close();
  });
});

describe('RowMapper', () => {
  const m = new RowMapper(
    [
      { name: 'f', datatype: 'FP32', shape: [-1, 3] },
      { name: 'i', datatype: 'INT8', shape: [-1] },
      { name: 'b', datatype: 'BOOL', shape: [-1, 1] },
      { name: 'l', datatype: 'INT64', shape: [-1, 2] },
      { name: 's', datatype: 'BYTES', shape: [-1, -1] },
    ],
    true,
    ['user_id'],
  );

  it('builds one-row tensors from arrays, split columns and CSV strings', () => {
    const t = m.tensors({ f: [1, 2, 3], i: '-5', b: 'true', 'l[0]': '9007199254740993', 'l[1]': 2, s: ['a', 'b'] });
    expect(t.map((x) => [x.name, x.shape])).toEqual([
      ['f', [1, 3]],
      ['i', [1]],
      ['b', [1, 1]],
      ['l', [1, 2]],
      ['s', [1, 2]],
    ]);
    expect(Array.from(t[3].data as BigInt64Array)).toEqual([9007199254740993n, 2n]);
  });

  it('refuses wrong values naming the column', () => {
    const base = { f: [1, 2, 3], i: 1, b: 0, l: [1, 2], s: ['a'] };
    expect(() => m.tensors({ ...base, i: 200 })).toThrow('column "i": 200 is not in range for INT8 (-128 … 127)');
    expect(() => m.tensors({ ...base, i: 1.5 })).toThrow('column "i": 1.5 is not an integer (input datatype INT8)');
    expect(() => m.tensors({ ...base, b: 'yes' })).toThrow('column "b": "yes" is not a boolean');
    expect(() => m.tensors({ ...base, f: [1, 'x', 3] })).toThrow('column "f[1]": "x" is not a number (input datatype FP32)');
    expect(() => m.tensors({ ...base, f: [1, 2] })).toThrow('column "f": expected 3 values, got 2');
    expect(() => m.tensors({ ...base, extra: 1 })).toThrow('unknown column "extra"');
    const { f, ...noF } = base;
    void f;
    expect(() => m.tensors(noF)).toThrow('no value for input "f"');
  });

  it('an entity id column stands in for missing inputs (the gateway fills them)', () => {
    const t = m.tensors({ user_id: 42, i: 1, b: 1, l: [1, 2], s: ['a'] });
    expect(t.map((x) => x.name)).toEqual(['user_id', 'i', 'b', 'l', 's']);
    expect(new TextDecoder().decode((t[0].data as Uint8Array[])[0])).toBe('42');
  });

  it('checks a header: unknown columns, then missing inputs', () => {
    expect(m.checkColumns(['f', 'i', 'b', 'l', 's'])).toBeNull();
    expect(m.checkColumns(['f[0]', 'f[1]', 'f[2]', 'i', 'b', 'l', 's'])).toBeNull();
    expect(m.checkColumns(['f', 'i', 'b', 'l', 's', 'z'])).toMatch(/^unknown column "z"; the model takes input columns f \(an array of 3\) or f\[0\] … f\[2\]/);
    expect(m.checkColumns(['f', 'i'])).toMatch(/^no column for inputs "b", "l", "s"/);
    expect(m.checkColumns(['user_id'])).toBeNull();
  });
});
