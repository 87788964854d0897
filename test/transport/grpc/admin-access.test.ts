import { describe, expect, it } from 'vitest';
import { checkAdminAccess } from '../../../src/transport/admin-auth.js';
import { peerAddress } from '../../../src/transport/grpc/index.js';

describe('gRPC peer addresses', () => {
  it('drops the port from what grpc-js reports as the peer', () => {
    expect(peerAddress('127.0.0.1:50123')).toBe('127.0.0.1');
    expect(peerAddress('::1:50123')).toBe('::1');
    expect(peerAddress('::ffff:127.0.0.1:4000')).toBe('::ffff:127.0.0.1');
    expect(peerAddress('[::1]:4000')).toBe('::1');
    expect(peerAddress('unknown')).toBe('unknown');
  });
});

describe('admin access', () => {
  it('with no token, admits loopback peers only', () => {
    expect(() => checkAdminAccess(null, '', '127.0.0.1')).not.toThrow();
    expect(() => checkAdminAccess(null, '', '::1')).not.toThrow();
    expect(() => checkAdminAccess(null, '', '10.1.2.3')).toThrow(/only answered to loopback clients when no admin token is set/);
    expect(() => checkAdminAccess(null, '', 'unknown')).toThrow(expect.objectContaining({ grpcStatus: 7 }));
  });
  it('with a token, admits whoever presents it, from anywhere', () => {
    expect(() => checkAdminAccess('s3cret', 'Bearer s3cret', '10.1.2.3')).not.toThrow();
    expect(() => checkAdminAccess('s3cret', '', '127.0.0.1')).toThrow(expect.objectContaining({ code: 'SY_ERR_UNAUTHORIZED', grpcStatus: 16 }));
    expect(() => checkAdminAccess('s3cret', 'Bearer wrong', '127.0.0.1')).toThrow(expect.objectContaining({ code: 'SY_ERR_FORBIDDEN', grpcStatus: 7 }));
  });
});
