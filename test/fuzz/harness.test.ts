/**
 * The fuzz harness itself: what counts as a crash, the rest-binary input framing, mutations
 * that never write into the corpus entry they start from, and the committed corpus replayed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/index.js';
import { Mutator, Rng } from './mutate.js';
import { TARGETS, joinBinaryInput, splitBinaryInput, violation } from './targets.js';

describe('fuzz harness', () => {
  it('only a 4xx GatewayError keeps the invariant', () => {
    expect(violation(undefined)).toBeNull();
    expect(violation(new GatewayError('SY_ERR_INVALID_INPUT', 'bad'))).toBeNull();
    expect(violation(new GatewayError('SY_ERR_INTERNAL', 'oops'))).toMatch(/HTTP status 500, expected a 4xx/);
    expect(violation(new RangeError('Offset is outside the bounds of the DataView'))).toMatch(/^RangeError escaped the decoder/);
    expect(violation('thrown string')).toMatch(/^string escaped the decoder/);
  });

  it('rest-binary inputs: JSON, NUL, binary; or 0x01 and an explicit header length', () => {
    const json = Buffer.from('{"inputs":[]}');
    const { headerLength, body } = splitBinaryInput(joinBinaryInput(json, Uint8Array.of(0, 7)));
    expect(headerLength).toBe(json.length);
    expect(Buffer.from(body)).toEqual(Buffer.concat([json, Uint8Array.of(0, 7)]));
    expect(splitBinaryInput(Uint8Array.of(1, 2, 1, 9)).headerLength).toBe(258);
  });

  it('mutations never write into the entry they start from (a Buffer slice() is a view)', () => {
    const base = Buffer.from('{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}');
    const copy = Buffer.from(base);
    const m = new Mutator(new Rng(7), TARGETS[0].dictionary, 4096);
    for (let i = 0; i < 5000; i++) m.mutate(base, base);
    expect(base).toEqual(copy);
  });

  it.each(TARGETS.map((t) => [t.name, t] as const))('every committed %s corpus file keeps the invariant', (name, t) => {
    const dir = join(import.meta.dirname, 'corpus', name);
    const files = readdirSync(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      let error: unknown;
      try {
        t.run(readFileSync(join(dir, f)));
      } catch (e) {
        error = e;
      }
      expect(violation(error), f).toBeNull();
    }
  });
});
