/**
 * The REST routes as registered: every `app.get/post/put/patch/del(pattern, …)` goes through
 * `recordRoutes`, so the table is the server's own list, not a copy kept by hand. It answers
 * which methods a path has (the catch-all's 405 and `Allow`), and lets a test compare the
 * routes with the OpenAPI document.
 */
import type { TemplatedApp } from './uws.js';

export interface RouteEntry {
  /** upper case: GET, POST, PUT, PATCH, DELETE */
  readonly method: string;
  /** uWS pattern: `/v2/models/:model/infer` */
  readonly pattern: string;
}

const METHODS: Readonly<Record<string, string>> = { get: 'GET', post: 'POST', put: 'PUT', patch: 'PATCH', del: 'DELETE' };

export class RouteTable {
  private readonly entries: (RouteEntry & { readonly segments: readonly string[] })[] = [];

  add(method: string, pattern: string): void {
    this.entries.push({ method, pattern, segments: pattern.split('/') });
  }

  list(): readonly RouteEntry[] {
    return this.entries.map(({ method, pattern }) => ({ method, pattern }));
  }

  /** The methods whose pattern matches `path` (a `:param` matches one non-empty segment), sorted. */
  methodsFor(path: string): string[] {
    const segments = path.split('/');
    const out = new Set<string>();
    for (const e of this.entries) {
      if (e.segments.length !== segments.length) continue;
      let match = true;
      for (let i = 0; i < segments.length && match; i++) {
        const want = e.segments[i] as string;
        const got = segments[i] as string;
        match = want.startsWith(':') ? got !== '' : want === got;
      }
      if (match) out.add(e.method);
    }
    return [...out].sort();
  }
}

/** `app`, with every route registration also written into `table`. */
export function recordRoutes(app: TemplatedApp, table: RouteTable): TemplatedApp {
  const proxy: TemplatedApp = new Proxy(app, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      const method = typeof prop === 'string' ? METHODS[prop] : undefined;
      if (typeof value !== 'function') return value;
      if (method === undefined) return (value as (...a: unknown[]) => unknown).bind(target);
      return (pattern: string, handler: unknown) => {
        table.add(method, pattern);
        (value as (p: string, h: unknown) => unknown).call(target, pattern, handler);
        return proxy;
      };
    },
  });
  return proxy;
}
