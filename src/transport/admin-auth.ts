/**
 * Who may use admin operations (repository load/unload/index), for every transport: with
 * `admin_token` set, a caller that presents `Bearer <admin_token>` as its authorization
 * (HTTP header or gRPC metadata); with no token, loopback peers only.
 */
import { GatewayError } from '../core/errors.js';

/** Whether a peer address (as uWS or Node's net module prints it) is the loopback interface. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  if (a === '::1' || a === '0000:0000:0000:0000:0000:0000:0000:0001') return true;
  if (a.startsWith('127.')) return true;
  // IPv4-mapped IPv6, in its short or its long (uWS) form
  return a.startsWith('::ffff:127.') || a.startsWith('0000:0000:0000:0000:0000:ffff:7f');
}

/**
 * Throws SY_ERR_UNAUTHORIZED or SY_ERR_FORBIDDEN unless the caller may use admin operations.
 * `authorization` is the caller's authorization value ('' when it sent none), `peer` its address.
 */
export function checkAdminAccess(token: string | null, authorization: string, peer: string): void {
  if (token !== null && token !== '') {
    if (authorization === '') {
      throw new GatewayError('SY_ERR_UNAUTHORIZED', 'admin operations need the admin token: send "Authorization: Bearer <SWITCHYARD_ADMIN_TOKEN>"');
    }
    if (authorization !== `Bearer ${token}`) {
      throw new GatewayError('SY_ERR_FORBIDDEN', 'the admin token sent is not the one configured; send "Authorization: Bearer <SWITCHYARD_ADMIN_TOKEN>" with the value the server was started with');
    }
  } else if (!isLoopback(peer)) {
    throw new GatewayError(
      'SY_ERR_FORBIDDEN',
      'admin operations are only answered to loopback clients when no admin token is set; set SWITCHYARD_ADMIN_TOKEN and send it as a Bearer token',
    );
  }
}
