/**
 * A small JSON endpoint for the protocol extensions' REST calls (shared memory, trace and
 * log settings): optional admin check, optional JSON body, path parameters decoded, and
 * every throw or rejection answered as the registry's error.
 */
import type { HttpRequest, HttpResponse } from './uws.js';
import { GatewayError } from '../../core/errors.js';
import type { Gateway } from '../../gateway.js';
import { parseControlJson } from '../../protocol/index.js';
import { checkAdminAccess } from '../admin-auth.js';
import { contentLengthOf, readBody } from './body.js';
import { Exchange } from './reply.js';

const BODY_LIMIT = 1 << 20;

export interface EndpointOptions {
  /** an admin operation (`Authorization: Bearer <admin_token>`, or loopback with no token) */
  readonly admin: boolean;
  /** read the body as JSON (an empty body is `undefined`) */
  readonly body: boolean;
}

/** The handler: path parameters (decoded) and the parsed body; its value is answered as JSON (200). */
export type EndpointFn = (params: readonly string[], body: unknown) => unknown;

/** A URL path segment, percent-decoded (uWS hands them over encoded); a malformed one is a 400. */
export function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new GatewayError('SY_ERR_BAD_REQUEST', `malformed percent-encoding in the URL path segment ${JSON.stringify(raw.slice(0, 130))}`);
  }
}

/** The body as JSON; an empty body is `undefined`, malformed JSON a 400 (SY_ERR_MALFORMED_JSON). */
export function parseJsonBody(body: Buffer, what = 'request'): unknown {
  if (body.byteLength === 0) return undefined;
  return parseControlJson(body, what);
}

/** The uWS handler for `fn`; `paramCount` path parameters are read before any async work. */
export function jsonEndpoint(gateway: Gateway, paramCount: number, opts: EndpointOptions, fn: EndpointFn): (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    const ex = new Exchange(res);
    try {
      if (opts.admin) checkAdminAccess(gateway.config.admin_token, req.getHeader('authorization'), Buffer.from(res.getRemoteAddressAsText()).toString());
      const params: string[] = [];
      for (let i = 0; i < paramCount; i++) params.push(decodeSegment(req.getParameter(i) ?? ''));
      if (!opts.body) {
        ex.json(200, fn(params, undefined));
        return;
      }
      readBody(ex, contentLengthOf(req), BODY_LIMIT, (body) => {
        try {
          ex.json(200, fn(params, parseJsonBody(body)));
        } catch (e) {
          ex.error(e);
        }
      });
    } catch (e) {
      ex.error(e);
    }
  };
}
