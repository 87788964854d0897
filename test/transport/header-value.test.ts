import { describe, expect, it } from 'vitest';
import { headerValue } from '../../src/transport/http/reply.js';

describe('headerValue', () => {
  it('keeps visible ASCII (and %) as it is', () => {
    for (const v of ['abc-123', 'a b\tc', '100%', '~!"#$&\'()*+,/:;<=>?@[\\]^_`{|}']) expect(headerValue(v)).toBe(v);
  });

  it('percent-encodes CR, LF, NUL, other controls and non-ASCII as UTF-8', () => {
    expect(headerValue('a\r\nSet-Cookie: x')).toBe('a%0D%0ASet-Cookie: x');
    expect(headerValue('\0\x7f')).toBe('%00%7F');
    expect(headerValue('ünï')).toBe('%C3%BCn%C3%AF');
    expect(headerValue('😀')).toBe('%F0%9F%98%80');
  });
});
