import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/transport/admin-auth.js';

describe('isLoopback', () => {
  it('recognises loopback peers in the forms uWS prints', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '0000:0000:0000:0000:0000:0000:0000:0001', '::ffff:127.0.0.1', '0000:0000:0000:0000:0000:ffff:7f00:0001']) {
      expect(isLoopback(a), a).toBe(true);
    }
  });
  it('refuses everything else', () => {
    for (const a of ['10.0.0.1', '192.168.1.127', '::2', '0000:0000:0000:0000:0000:ffff:0a00:0001', '128.0.0.1', '']) expect(isLoopback(a), a).toBe(false);
  });
});
