/**
 * The release engineer's REST API for routes (all admin operations: `Authorization: Bearer
 * <admin_token>`, or loopback clients when no token is set):
 *
 *   GET    /admin/routes                      every route: config and live state
 *   GET    /admin/routes/{name}               one route: config, canary step and history, arm statistics, per-target counts
 *   PUT    /admin/routes/{name}               create or replace (body: the route spec)
 *   PATCH  /admin/routes/{name}               change part of it (JSON merge patch; or {"weights": {"model:version": w}})
 *   DELETE /admin/routes/{name}
 *   POST   /admin/routes/{name}/{action}      pause | resume | promote | rollback
 *   GET    /admin/audit[?limit=N]             who changed what, when, before and after
 *
 * The actor written to the audit log is the `x-switchyard-actor` header when sent, else
 * `admin@<client address>`.
 *
 * Optimistic concurrency: a change (PUT, PATCH, DELETE, action) with `If-Match: "<revision>"`
 * (the `revision` of the route as the caller last read it; "0" = create only, the route must
 * not exist) is made only if the route is still at that revision; otherwise nothing changes
 * and the answer is 409 {"error", "code": "SY_ERR_CONFLICT", "current": <the route now, or
 * null>}. Without If-Match a change applies to whatever is there (as before).
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.js';
import { GatewayError } from '../../core/errors.js';
import type { Gateway } from '../../gateway.js';
import { ROUTE_ACTIONS, StaleRouteError, type RouteAction } from '../../routing/index.js';
import { checkAdminAccess } from '../admin-auth.js';
import { contentLengthOf, readBody } from './body.js';
import { decodeSegment, parseJsonBody } from './json-endpoint.js';
import { Exchange } from './reply.js';

const BODY_LIMIT = 1 << 20;
const MAX_AUDIT = 10_000;

interface AdminCall {
  readonly ex: Exchange;
  readonly actor: string;
  /** the decoded {name} path segment ('' when the path has none) */
  readonly name: string;
  readonly query: string;
  /** the If-Match revision, or null when none was sent */
  readonly expected: number | null;
}

/** `If-Match: "12"` (or 12, or W/"12") → 12; absent → null; anything else is a 400. */
function ifMatch(raw: string): number | null {
  if (raw === '') return null;
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(raw);
  if (m === null) {
    throw new GatewayError('SY_ERR_BAD_REQUEST', `If-Match ${JSON.stringify(raw.slice(0, 40))} is not a route revision; send the "revision" of the route as you read it, e.g. If-Match: "12" ("0": the route must not exist yet)`);
  }
  return Number(m[1]);
}

function parseBody(body: Buffer): unknown {
  if (body.byteLength === 0) throw new GatewayError('SY_ERR_BAD_REQUEST', 'the request needs a JSON body: the route spec (see the README\'s Routes section)');
  return parseJsonBody(body);
}

function auditLimit(query: string): number {
  const raw = new URLSearchParams(query).get('limit');
  if (raw === null) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_AUDIT) throw new GatewayError('SY_ERR_BAD_REQUEST', `limit must be an integer 1..${MAX_AUDIT}, got ${JSON.stringify(raw.slice(0, 40))}`);
  return n;
}

export function registerRouteAdmin(app: TemplatedApp, gateway: Gateway): void {
  const router = () => gateway.routes;

  /** Checks access and runs `fn`; a throw or a rejection becomes the error response. */
  const handle = (res: HttpResponse, req: HttpRequest, withBody: boolean, fn: (call: AdminCall, body: unknown) => Promise<unknown> | unknown, status = 200): void => {
    const ex = new Exchange(res);
    try {
      const peer = Buffer.from(res.getRemoteAddressAsText()).toString();
      checkAdminAccess(gateway.config.admin_token, req.getHeader('authorization'), peer);
      const call: AdminCall = {
        ex,
        actor: req.getHeader('x-switchyard-actor').slice(0, 128) || `admin@${peer}`,
        name: req.getParameter(0) === undefined ? '' : decodeSegment(req.getParameter(0) ?? ''),
        query: req.getQuery() ?? '',
        expected: ifMatch(req.getHeader('if-match')),
      };
      const run = (body: unknown): void => {
        Promise.resolve()
          .then(() => fn(call, body))
          .then(
            (value) => (value === undefined ? ex.send(204, 'application/json', '') : ex.json(status, value)),
            (e: unknown) => (e instanceof StaleRouteError ? stale(ex, e) : ex.error(e)),
          );
      };
      if (!withBody) {
        run(undefined);
        return;
      }
      readBody(ex, contentLengthOf(req), BODY_LIMIT, (body) => {
        try {
          run(parseBody(body));
        } catch (e) {
          ex.error(e);
        }
      });
    } catch (e) {
      ex.error(e);
    }
  };

  app.get('/admin/routes', (res, req) => handle(res, req, false, () => ({ routes: router().list() })));
  app.get('/admin/routes/:name', (res, req) => handle(res, req, false, (c) => router().get(c.name)));
  app.put('/admin/routes/:name', (res, req) => handle(res, req, true, (c, body) => router().put(c.name, body, c.actor, c.expected)));
  app.patch('/admin/routes/:name', (res, req) => handle(res, req, true, (c, body) => router().patch(c.name, body, c.actor, c.expected)));
  app.del('/admin/routes/:name', (res, req) => handle(res, req, false, async (c) => router().remove(c.name, c.actor, c.expected)));
  app.post('/admin/routes/:name/:action', (res, req) => {
    const action = req.getParameter(1) ?? '';
    handle(res, req, false, (c) => {
      if (!(ROUTE_ACTIONS as readonly string[]).includes(action)) {
        throw new GatewayError('SY_ERR_NOT_FOUND', `no route action "${action.slice(0, 40)}"; use one of ${ROUTE_ACTIONS.join(', ')}`);
      }
      return router().action(c.name, action as RouteAction, c.actor, c.expected);
    });
  });
  app.get('/admin/audit', (res, req) => handle(res, req, false, async (c) => ({ entries: await router().audit(auditLimit(c.query)) })));
}

/** 409 for a change against a stale revision: the usual error body plus the route as it is now. */
function stale(ex: Exchange, e: StaleRouteError): void {
  ex.json(e.httpStatus, { error: e.message, code: e.code, current: e.current }, [['x-switchyard-error', e.code]]);
}
