/**
 * The error registry (src/core/errors.ts) holds every code a client can see: each one is
 * raised somewhere in src/, maps to an HTTP error status and a gRPC status, and is listed in
 * the README's table with the same statuses. A code nobody raises, or one the README does not
 * list, fails here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS, GatewayError, GrpcStatus, type ErrorCode } from '../../src/core/errors.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
const CODES = Object.keys(ERRORS) as ErrorCode[];
const GRPC_NAME = new Map<number, string>(Object.entries(GrpcStatus).map(([name, n]) => [n, name]));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) return f === 'gen' ? [] : sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('error registry', () => {
  it('every code is raised somewhere in src/ (outside the table itself)', () => {
    const text = sources(path.join(ROOT, 'src'))
      .map((f) => (f.endsWith(path.join('core', 'errors.ts')) ? readFileSync(f, 'utf8').replace(/export const ERRORS[\s\S]*?\} satisfies/, '') : readFileSync(f, 'utf8')))
      .join('\n');
    const unraised = CODES.filter((code) => !new RegExp(`GatewayError\\(\\s*'${code}'`).test(text));
    expect(unraised).toEqual([]);
  });

  it('every code maps to an HTTP error status and a gRPC status other than OK', () => {
    for (const code of CODES) {
      const e = new GatewayError(code, 'x');
      expect(e.httpStatus, code).toBeGreaterThanOrEqual(400);
      expect(e.httpStatus, code).toBeLessThan(600);
      expect(GRPC_NAME.has(e.grpcStatus) && e.grpcStatus !== GrpcStatus.OK, code).toBe(true);
    }
  });

  it("the README's table lists every code with its HTTP and gRPC status, and no other", () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `(SY_ERR_\w+)` \| (\d+) \| (\w+) \| .+ \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    expect(rows.map((r) => r[0]).sort()).toEqual([...CODES].sort());
    for (const [code, http, grpc] of rows) {
      const spec = ERRORS[code as ErrorCode];
      expect([code, http, grpc]).toEqual([code, spec.http, GRPC_NAME.get(spec.grpc)]);
    }
  });
});
