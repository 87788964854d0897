import { describe, expect, it } from 'vitest';
import { LineEncoder } from '../../src/telemetry/request-log/sinks/line-encoder.js';

const joined = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');

describe('LineEncoder', () => {
  it('writes each line as UTF-8 followed by a newline, multi-byte characters included', () => {
    const lines = ['{"a":1}', '', '{"name":"café ☕ 𝄞 日本"}', '{"e":"\\u0000"}'];
    for (const reuse of [true, false]) {
      const bytes = new LineEncoder(reuse).encode(lines);
      expect(bytes.toString('utf8')).toBe(joined(lines));
      expect(bytes.length).toBe(Buffer.byteLength(joined(lines)));
    }
  });

  it('grows for a larger batch and reuses its buffer only when asked to', () => {
    const small = ['x'.repeat(10)];
    const large = Array.from({ length: 300 }, (_, i) => `{"i":${i},"s":"${'é'.repeat(i)}"}`);
    const reusing = new LineEncoder(true);
    const a = reusing.encode(large);
    expect(a.toString('utf8')).toBe(joined(large));
    const b = reusing.encode(small);
    expect(b.toString('utf8')).toBe(joined(small));
    // the same memory: the first result is no longer valid once the next batch is encoded
    expect(b.buffer).toBe(a.buffer);
    const fresh = new LineEncoder(false);
    const c = fresh.encode(large);
    const d = fresh.encode(small);
    expect(d.buffer).not.toBe(c.buffer);
    expect(c.toString('utf8')).toBe(joined(large));
  });
});
