/**
 * The RouteStore contract (src/routing/store/store.ts), run against every implementation:
 * memory (one gateway), file (one gateway, kept in a state folder across restarts) and Redis
 * (a real redis-server, shared by replicas). What only one does (shared counters, locks that
 * exclude, change notifications, an emptied Redis, files) is tested beside it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { normaliseRouteSpec, type RouteSpec } from '../../src/routing/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRouteStore } from '../../src/routing/store/file-store.js';
import { MemoryRouteStore } from '../../src/routing/store/memory-store.js';
import { RedisRouteStore } from '../../src/routing/store/redis-store.js';
import type { AuditEntry, CreditRecord, RouteRecord, RouteStore, RouteWrite } from '../../src/routing/store/store.js';
import { silentLogger } from '../../src/core/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let prefixes = 0;
const open: RouteStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
const stateDirs: string[] = [];
afterAll(async () => {
  await redis.stop();
  for (const d of stateDirs) rmSync(d, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const implementations: [string, () => Promise<RouteStore>][] = [
  ['memory', async () => new MemoryRouteStore()],
  [
    'file',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'switchyard-state-'));
      stateDirs.push(dir);
      return FileRouteStore.open({ dir, log: silentLogger });
    },
  ],
  ['redis', () => RedisRouteStore.connect({ url: redis.url, log: silentLogger, keyPrefix: `contract${prefixes++}:`, pollMs: 60_000 })],
];

const spec = (weight: number): RouteSpec =>
  normaliseRouteSpec({
    policy: 'weighted',
    targets: [
      { model: 'tabular', version: '1', weight },
      { model: 'tabular', version: '2', weight: 100 - weight },
    ],
  });

const record = (name: string, weight: number): Omit<RouteRecord, 'revision'> => ({ name, spec: spec(weight), canary: null, seed: null, updatedAt: 1_700_000_000_000 + weight });

const audit = (route: string, action: string): AuditEntry => ({ at: new Date(0).toISOString(), actor: 'test', route, action, before: null, after: { action } });

const write = (name: string, expectedRevision: number, rec: Omit<RouteRecord, 'revision'> | null, entry: AuditEntry | null = null): RouteWrite => ({
  name,
  expectedRevision,
  record: rec,
  audit: entry,
  dropCounters: [],
});

const credit = (route: string, reward: 'b' | 'g'): CreditRecord => ({ route, hash: `${route}:arms`, prefix: 'a0:', reward });

describe.each(implementations)('RouteStore contract: %s', (_name, make) => {
  const store = async (): Promise<RouteStore> => {
    const s = await make();
    open.push(s);
    return s;
  };

  it('loads what was written, with increasing revisions across routes; deleting removes it', async () => {
    const s = await store();
    expect(await s.load()).toEqual([]);
    const r1 = await s.write(write('a', 0, record('a', 10)));
    const r2 = await s.write(write('b', 0, record('b', 20)));
    expect(r1).not.toBeNull();
    expect(r2!).toBeGreaterThan(r1!);
    const loaded = (await s.load()).sort((x, y) => x.name.localeCompare(y.name));
    expect(loaded).toEqual([
      { ...record('a', 10), revision: r1 },
      { ...record('b', 20), revision: r2 },
    ]);
    expect(await s.loadOne('a')).toEqual({ ...record('a', 10), revision: r1 });
    expect(await s.loadOne('missing')).toBeNull();
    const r3 = await s.write(write('a', r1!, null));
    expect(r3!).toBeGreaterThan(r2!);
    expect(await s.loadOne('a')).toBeNull();
    expect((await s.load()).map((r) => r.name)).toEqual(['b']);
  });

  it('applies a change only at the revision it was computed from (0: the route must not exist; -1: whatever is there)', async () => {
    const s = await store();
    const r1 = await s.write(write('a', 0, record('a', 10)));
    expect(await s.write(write('a', 0, record('a', 30)))).toBeNull();
    expect(await s.write(write('a', r1! + 100, record('a', 30)))).toBeNull();
    expect((await s.loadOne('a'))?.spec).toEqual(spec(10));
    const r2 = await s.write(write('a', r1!, record('a', 40)));
    expect(await s.write(write('a', r1!, record('a', 50)))).toBeNull();
    const r3 = await s.write(write('a', -1, record('a', 60)));
    expect(r3!).toBeGreaterThan(r2!);
    expect((await s.loadOne('a'))?.spec).toEqual(spec(60));
  });

  it('keeps the audit log newest first, one entry per change that has one, a refused change adding none', async () => {
    const s = await store();
    const r1 = await s.write(write('a', 0, record('a', 10), audit('a', 'create')));
    await s.write(write('a', r1!, record('a', 20), audit('a', 'replace')));
    await s.write(write('a', r1!, record('a', 30), audit('a', 'refused')));
    await s.write(write('b', 0, record('b', 10), null));
    expect((await s.audit(10)).map((e) => e.action)).toEqual(['replace', 'create']);
    expect(await s.audit(1)).toEqual([audit('a', 'replace')]);
    expect(await s.audit(0)).toEqual([]);
  });

  it('credits a remembered request once: then it is a duplicate of its route; an id never remembered is unknown', async () => {
    const s = await store();
    s.remember('r1', credit('bandit-route', 'g'));
    expect(await s.credit('r1', 2.5)).toEqual({ outcome: 'credited', record: credit('bandit-route', 'g') });
    expect(await s.credit('r1', 2.5)).toEqual({ outcome: 'duplicate', route: 'bandit-route' });
    expect(await s.credit('never', 1)).toEqual({ outcome: 'unknown' });
  });

  it('refuses a bernoulli reward other than 0 or 1 without using up the request; a forgotten request is unknown', async () => {
    const s = await store();
    s.remember('r1', credit('b-route', 'b'));
    expect(await s.credit('r1', 0.5)).toEqual({ outcome: 'invalid', record: credit('b-route', 'b') });
    expect(await s.credit('r1', 1)).toEqual({ outcome: 'credited', record: credit('b-route', 'b') });
    s.remember('r2', credit('b-route', 'b'));
    s.forget('r2');
    expect(await s.credit('r2', 1)).toEqual({ outcome: 'unknown' });
  });

  it('of concurrent credits of one request exactly one is credited', async () => {
    const s = await store();
    s.remember('r1', credit('route', 'g'));
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => s.credit('r1', 1)));
    expect(outcomes.filter((o) => o.outcome === 'credited')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(11);
  });

  it('gives a lock token that unlocks', async () => {
    const s = await store();
    const token = await s.tryLock('canary:a', 5000);
    expect(typeof token).toBe('string');
    await s.unlock('canary:a', token!);
    expect(typeof (await s.tryLock('canary:a', 5000))).toBe('string');
  });

  it('is not wiped while it holds what was written', async () => {
    const s = await store();
    await s.write(write('a', 0, record('a', 10)));
    expect(await s.wiped()).toBe(false);
  });
});
