import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { confined, isValidModelName, isValidVersion, resolveMaxBatchSize, selectVersions } from '../../src/repository/index.js';
import type { ModelSignature } from '../../src/core/index.js';

describe('selectVersions', () => {
  const present = ['1', '2', '3', '10'];
  it('latest N picks the highest numbered', () => {
    expect(selectVersions(present, { latest: 1 })).toEqual(['10']);
    expect(selectVersions(present, { latest: 2 })).toEqual(['3', '10']);
    expect(selectVersions(present, { latest: 9 })).toEqual(present);
  });
  it('all and specific', () => {
    expect(selectVersions(present, 'all')).toEqual(present);
    expect(selectVersions(present, { specific: [2, 10, 7] })).toEqual(['2', '10']);
  });
});

describe('model names and versions', () => {
  it('accepts ordinary names and refuses anything that could leave the root', () => {
    for (const ok of ['tabular', 'resnet-50', 'a.b_c', '9lives']) expect(isValidModelName(ok), ok).toBe(true);
    for (const bad of ['', '.', '..', '.hidden', 'a/b', 'a\\b', '/etc', 'a\0b', 'x'.repeat(129)]) expect(isValidModelName(bad), bad).toBe(false);
    for (const ok of ['1', '42']) expect(isValidVersion(ok)).toBe(true);
    for (const bad of ['0', '-1', '01', '1.0', '..', 'latest']) expect(isValidVersion(bad), bad).toBe(false);
  });

  const root = mkdtempSync(join(tmpdir(), 'switchyard-paths-'));
  const outside = mkdtempSync(join(tmpdir(), 'switchyard-outside-'));
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('confines paths to the root, symlinks included', () => {
    mkdirSync(join(root, 'm', '1'), { recursive: true });
    writeFileSync(join(root, 'm', '1', 'model.onnx'), 'x');
    writeFileSync(join(outside, 'secret'), 'x');
    symlinkSync(outside, join(root, 'out'));
    symlinkSync(join(root, 'm'), join(root, 'alias'));
    expect(confined(root, 'm', '1', 'model.onnx')).not.toBeNull();
    expect(confined(root, 'alias', '1', 'model.onnx')).not.toBeNull(); // a link inside the root is fine
    expect(confined(root, 'out', 'secret')).toBeNull();
    expect(confined(root, '..', 'etc')).toBeNull();
    expect(confined(root, 'missing')).toBeNull();
  });
});

describe('resolveMaxBatchSize', () => {
  const batchable: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] };
  const fixed: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }] };
  it('auto batches only models with a dynamic leading dimension everywhere', () => {
    expect(resolveMaxBatchSize('auto', batchable)).toBe(64);
    expect(resolveMaxBatchSize('auto', fixed)).toBe(0);
    expect(resolveMaxBatchSize(8, batchable)).toBe(8);
    expect(resolveMaxBatchSize(0, fixed)).toBe(0);
  });
  it('refuses batching for a model that cannot batch, naming the tensor', () => {
    expect(() => resolveMaxBatchSize(8, fixed)).toThrow(/"x" has no dynamic leading \(batch\) dimension; set max_batch_size: 0/);
  });
});
