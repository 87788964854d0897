/**
 * The file route store: the in-memory store's semantics (one gateway, `shared` false: it is
 * not shared between processes, and two gateways must not use one folder — a lock file says
 * so at startup), plus everything kept in a state folder so that a restart finds it again.
 *
 * Files in `dir`:
 *   routes.json    routes (with their canary state), the revision counter, the audit log and
 *                  the counter drops not yet in counters.json. Replaced atomically on every
 *                  route change before the change is acknowledged: a change and its audit
 *                  entry are one rename, so a kill leaves the old or the new state, never a mix.
 *   counters.json  counter hashes (request counts, bandit arms, canary windows) as of the last
 *                  flush, stamped with the revision they reflect. The router syncs its counters
 *                  into this store every 250 ms (in memory: no I/O); the store writes the file
 *                  at most once per `flushIntervalMs` (default 1 s) when something changed, and
 *                  on close. A kill loses at most the last interval's counts.
 *   lock           "<pid> <host>" of the gateway using the folder (stale once that process is gone).
 * A route change that drops counters (a deleted route's statistics) lists the drop in
 * routes.json with its revision until counters.json has caught up, so a kill between the two
 * files never brings a deleted route's statistics back.
 *
 * A file that cannot be read or parsed stops the startup (StateFileError, naming the file
 * and the way out) rather than being moved aside: serving without it would silently undo
 * changes made at run time (a rolled-back canary back on its first step, a deleted route
 * back), which is worse than not starting. Since every write is atomic, such a file was
 * damaged from outside (disk, hand edit) and wants a person to look at it.
 *
 * Requests awaiting feedback (remember/credit) are kept in memory only, as in the memory store:
 * after a restart, feedback for a request served before it is unknown (404).
 */
import { randomUUID } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { access, mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { GatewayError } from '../../core/errors.js';
import type { Logger } from '../../core/index.js';
import { systemClock, type Clock } from '../clock.js';
import { storeUnavailable } from '../errors.js';
import { removeStrayTemps, writeFileAtomic } from './atomic-file.js';
import { MemoryRouteStore } from './memory-store.js';
import type { AuditEntry, CreditRecord, CreditResult, RouteRecord, RouteStore, RouteWrite } from './store.js';

export interface FileRouteStoreOptions {
  /** the state folder (created when missing) */
  readonly dir: string;
  readonly log: Logger;
  readonly clock?: Clock;
  /** seconds a served request waits for its feedback (default 3600) */
  readonly feedbackTtlS?: number;
  /** audit entries kept (default 1000) */
  readonly maxAudit?: number;
  /** least ms between two writes of counters.json (default 1000) */
  readonly flushIntervalMs?: number;
}

/** The state folder cannot be used or one of its files cannot be read: the gateway does not start. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

const FORMAT = 'switchyard-state';
const VERSION = 1;

interface RoutesFile {
  format: typeof FORMAT;
  version: typeof VERSION;
  kind: 'routes';
  revision: number;
  routes: RouteRecord[];
  /** newest first */
  audit: AuditEntry[];
  /** counter hashes dropped at `revision`, not yet reflected in counters.json */
  drops: { revision: number; keys: string[] }[];
}

interface StoredHash {
  values: Record<string, number>;
  /** ms since the epoch, or null: kept until the route drops it */
  expiresAt: number | null;
}

interface CountersFile {
  format: typeof FORMAT;
  version: typeof VERSION;
  kind: 'counters';
  /** the routes revision this snapshot reflects (drops up to it are in it) */
  revision: number;
  hashes: Record<string, StoredHash>;
}

export class FileRouteStore implements RouteStore {
  readonly shared = false;
  /** counters live here so that they survive a restart (the router syncs them in) */
  readonly countersInStore = true;
  readonly dir: string;
  private readonly routesFile: string;
  private readonly countersFile: string;
  private readonly lockFile: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly maxAudit: number;
  private readonly flushIntervalMs: number;
  /** remember / forget / credit bookkeeping, as in memory */
  private readonly feedback: MemoryRouteStore;
  private routes = new Map<string, RouteRecord>();
  private auditLog: AuditEntry[] = [];
  private drops: { revision: number; keys: string[] }[] = [];
  private revision = 0;
  private readonly hashes = new Map<string, StoredHash>();
  /** the revision counters.json reflects */
  private countersRevision = 0;
  private countersDirty = false;
  /** file writes run one at a time, in order */
  private chain: Promise<unknown> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(opts: FileRouteStoreOptions) {
    this.dir = path.resolve(opts.dir);
    this.routesFile = path.join(this.dir, 'routes.json');
    this.countersFile = path.join(this.dir, 'counters.json');
    this.lockFile = path.join(this.dir, 'lock');
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
    this.maxAudit = opts.maxAudit ?? 1000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.feedback = new MemoryRouteStore({ clock: this.clock, feedbackTtlS: opts.feedbackTtlS, maxAudit: 0 });
  }

  /**
   * Opens the state folder: creates it when missing, checks that it can be written, takes its
   * lock and loads routes.json and counters.json. Throws StateFileError saying what to do.
   */
  static async open(opts: FileRouteStoreOptions): Promise<FileRouteStore> {
    const store = new FileRouteStore(opts);
    await store.prepareDir();
    await store.takeLock();
    try {
      await store.loadFiles();
    } catch (e) {
      await rm(store.lockFile, { force: true });
      throw e;
    }
    store.flushTimer = setInterval(() => void store.flushCounters(), store.flushIntervalMs);
    store.flushTimer.unref();
    return store;
  }

  private async prepareDir(): Promise<void> {
    const fix = `give the gateway's user write access to it, set state_dir to a writable folder, or set state_dir: null to keep routes in memory only (lost on restart)`;
    try {
      await mkdir(this.dir, { recursive: true });
      await access(this.dir, fsc.W_OK | fsc.X_OK);
      // access() trusts permission bits; a read-only mount or an ACL shows only on a real write
      const probe = path.join(this.dir, `.probe.${process.pid}.tmp`);
      await (await open(probe, 'w')).close();
      await rm(probe, { force: true });
    } catch (e) {
      throw new StateFileError(`state_dir ${this.dir} cannot be written (${(e as Error).message}): ${fix}`, { cause: e });
    }
    const stray = await removeStrayTemps(this.dir);
    if (stray.length > 0) this.log.info('state: removed temp files of an interrupted write', { dir: this.dir, files: stray });
  }

  /**
   * The lock file holds "<pid> <hostname>". It is stale (taken over) when its process is gone:
   * on this host, no such pid, or our own pid without this process holding the folder (a
   * container restarted on a kept volume is pid 1 again); from another host it cannot be
   * checked, and is taken over with a warning (a volume that moved with a rescheduled pod).
   */
  private async takeLock(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(this.lockFile, 'wx', 0o600);
        await fh.writeFile(`${process.pid} ${hostname()}\n`);
        await fh.close();
        HELD.add(this.dir);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StateFileError(`cannot create the lock file ${this.lockFile}: ${(e as Error).message}`, { cause: e });
      }
      const [pidText = '', host = ''] = (await readFile(this.lockFile, 'utf8').catch(() => '')).trim().split(/\s+/);
      const pid = Number(pidText);
      const here = host === '' || host === hostname();
      const live = Number.isInteger(pid) && pid > 0 && (pid === process.pid ? HELD.has(this.dir) : here && isAlive(pid));
      if (live) {
        throw new StateFileError(
          `state_dir ${this.dir} is in use by process ${pid} (${this.lockFile}); two gateways cannot share a state folder: give each its own state_dir, or use redis.url to share routes between replicas`,
        );
      }
      if (!here) this.log.warn('state: taking over the lock of a gateway on another host; two gateways must not share a state folder', { dir: this.dir, lock_host: host, lock_pid: pid });
      // the previous gateway is gone without unlocking (killed): the lock is stale
      await rm(this.lockFile, { force: true });
    }
    throw new StateFileError(`cannot take the lock file ${this.lockFile}; another gateway may be starting on the same state_dir`);
  }

  private async loadFiles(): Promise<void> {
    const routes = await readState<RoutesFile>(this.routesFile, 'routes', checkRoutesFile);
    const counters = await readState<CountersFile>(this.countersFile, 'counters', checkCountersFile);
    if (routes !== null) {
      this.revision = routes.revision;
      this.routes = new Map(routes.routes.map((r) => [r.name, r]));
      this.auditLog = routes.audit.slice(0, this.maxAudit);
      this.drops = routes.drops;
    }
    if (counters !== null) {
      const now = this.clock.now();
      for (const [key, h] of Object.entries(counters.hashes)) if (h.expiresAt === null || h.expiresAt > now) this.hashes.set(key, h);
      this.countersRevision = counters.revision;
    }
    // drops committed to routes.json after the last counters.json
    for (const d of this.drops) {
      if (d.revision <= this.countersRevision) continue;
      for (const k of d.keys) this.hashes.delete(k);
      this.countersDirty = true;
    }
    this.log.info(routes === null && counters === null ? 'state: routes and statistics persist in state_dir (empty so far)' : 'state: loaded routes and statistics from state_dir', {
      dir: this.dir,
      routes: this.routes.size,
      revision: this.revision,
      counter_hashes: this.hashes.size,
    });
  }

  async load(): Promise<RouteRecord[]> {
    return [...this.routes.values()];
  }

  /** Files do not lose their content on their own (a damaged one stops the startup instead). */
  async wiped(): Promise<boolean> {
    return false;
  }

  async loadOne(name: string): Promise<RouteRecord | null> {
    return this.routes.get(name) ?? null;
  }

  write(change: RouteWrite): Promise<number | null> {
    return this.serial(async () => {
      if (this.closed) throw storeUnavailable(`changing route "${change.name}"`, new Error('the store is closed'));
      const current = this.routes.get(change.name)?.revision ?? 0;
      if (change.expectedRevision >= 0 && current !== change.expectedRevision) return null;
      const revision = this.revision + 1;
      const routes = new Map(this.routes);
      if (change.record === null) routes.delete(change.name);
      else routes.set(change.name, { ...change.record, revision });
      const audit = change.audit === null ? this.auditLog : [change.audit, ...this.auditLog].slice(0, this.maxAudit);
      const drops = this.drops.filter((d) => d.revision > this.countersRevision);
      if (change.dropCounters.length > 0) drops.push({ revision, keys: [...change.dropCounters] });
      const file: RoutesFile = { format: FORMAT, version: VERSION, kind: 'routes', revision, routes: [...routes.values()], audit, drops };
      try {
        await writeFileAtomic(this.routesFile, JSON.stringify(file));
      } catch (e) {
        this.log.error('state: could not write a route change; it is not made', { route: change.name, file: this.routesFile, err: e });
        throw new GatewayError('SY_ERR_STORE_UNAVAILABLE', `route "${change.name.slice(0, 130)}" was not changed: the gateway could not write its state folder (disk full or permissions?; the server log names the file); retry once it is fixed`, {
          cause: e,
          retryAfterS: 1,
        });
      }
      // on disk: now the change is made
      this.revision = revision;
      this.routes = routes;
      this.auditLog = audit;
      this.drops = drops;
      if (change.dropCounters.length > 0) {
        for (const k of change.dropCounters) this.hashes.delete(k);
        this.countersDirty = true;
      }
      return revision;
    });
  }

  async audit(limit: number): Promise<AuditEntry[]> {
    return this.auditLog.slice(0, Math.max(0, limit));
  }

  remember(requestId: string, record: CreditRecord): void {
    this.feedback.remember(requestId, record);
  }

  forget(requestId: string): void {
    this.feedback.forget(requestId);
  }

  /** As the memory store; a credited reward is also added to the stored counters (the router adds it to its mirror). */
  async credit(requestId: string, reward: number): Promise<CreditResult> {
    const result = await this.feedback.credit(requestId, reward);
    if (result.outcome === 'credited') {
      const { hash, prefix } = result.record;
      this.addTo(hash, [
        [`${prefix}n`, 1],
        [`${prefix}sum`, reward],
        [`${prefix}sumsq`, reward * reward],
      ]);
    }
    return result;
  }

  /** Adds the router's pending deltas to the stored hash and returns it (no I/O: the file is flushed on a timer). */
  async syncCounters(key: string, deltas: readonly [string, number][], ttlS: number | null): Promise<Record<string, string>> {
    const h = this.addTo(key, deltas);
    const expiresAt = ttlS === null ? null : this.clock.now() + ttlS * 1000;
    // a TTL that only moves forward is not worth a write on its own
    if ((expiresAt === null) !== (h.expiresAt === null)) this.countersDirty = true;
    h.expiresAt = expiresAt;
    const out: Record<string, string> = {};
    for (const [f, v] of Object.entries(h.values)) out[f] = String(v);
    return out;
  }

  private addTo(key: string, deltas: readonly [string, number][]): StoredHash {
    let h = this.hashes.get(key);
    if (h === undefined) {
      h = { values: {}, expiresAt: null };
      this.hashes.set(key, h);
    }
    for (const [field, delta] of deltas) {
      if (!Number.isFinite(delta) || delta === 0) continue;
      h.values[field] = (h.values[field] ?? 0) + delta;
      this.countersDirty = true;
    }
    return h;
  }

  /** Writes counters.json when a counter changed since the last write. */
  flushCounters(): Promise<void> {
    return this.serial(async () => {
      if (!this.countersDirty) return;
      const now = this.clock.now();
      for (const [key, h] of this.hashes) if (h.expiresAt !== null && h.expiresAt <= now) this.hashes.delete(key);
      const revision = this.revision;
      const file: CountersFile = { format: FORMAT, version: VERSION, kind: 'counters', revision, hashes: Object.fromEntries(this.hashes) };
      this.countersDirty = false;
      try {
        await writeFileAtomic(this.countersFile, JSON.stringify(file));
        this.countersRevision = revision;
      } catch (e) {
        this.countersDirty = true;
        this.log.warn('state: could not write the route statistics; trying again in a second', { file: this.countersFile, err: e });
      }
    });
  }

  /** Always granted: one gateway uses the folder (the lock file sees to that). */
  async tryLock(): Promise<string | null> {
    return randomUUID();
  }

  async unlock(): Promise<void> {}

  watch(): void {}

  /** Writes the counters a last time and releases the folder. Call after the router's last sync. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushTimer !== null) clearInterval(this.flushTimer);
    await this.flushCounters();
    this.closed = true;
    await this.chain.catch(() => undefined);
    await rm(this.lockFile, { force: true });
    HELD.delete(this.dir);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/** the state folders this process holds (a lock file with our pid is ours only if listed here) */
const HELD = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads and checks one state file; null when it does not exist. */
async function readState<T>(file: string, kind: string, check: (v: unknown) => string | null): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StateFileError(`cannot read the state file ${file}: ${(e as Error).message}; fix its permissions and start again`, { cause: e });
  }
  let value: unknown;
  let problem: string | null;
  try {
    value = JSON.parse(text);
    problem = check(value);
  } catch (e) {
    problem = `not valid JSON (${(e as Error).message})`;
  }
  if (problem !== null) {
    const loses = kind === 'routes' ? 'the routes, canary progress and audit log changed at run time (the config file\'s routes are created again)' : 'the request counts, bandit statistics and canary windows';
    throw new StateFileError(
      `the state file ${file} is damaged: ${problem}. switchyard does not start rather than serve without it. ` +
        `To start anyway, move it aside (mv ${file} ${file}.damaged) — that loses ${loses} — or restore it from a backup.`,
    );
  }
  return value as T;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function header(v: unknown, kind: string): string | null {
  if (!isObject(v) || v.format !== FORMAT) return `not a switchyard state file (expected "format": "${FORMAT}")`;
  if (v.version !== VERSION) return `format version ${JSON.stringify(v.version)}, this switchyard reads version ${VERSION} (written by a newer switchyard?)`;
  if (v.kind !== kind) return `holds ${JSON.stringify(v.kind)}, expected "${kind}"`;
  if (typeof v.revision !== 'number' || !Number.isInteger(v.revision) || v.revision < 0) return '"revision" is not a non-negative integer';
  return null;
}

function checkRoutesFile(v: unknown): string | null {
  const h = header(v, 'routes');
  if (h !== null || !isObject(v)) return h;
  if (!Array.isArray(v.routes)) return '"routes" is not a list';
  for (const [i, r] of v.routes.entries()) {
    if (!isObject(r) || typeof r.name !== 'string' || !isObject(r.spec) || typeof r.revision !== 'number' || typeof r.updatedAt !== 'number') return `routes[${i}] is not a route record`;
  }
  if (!Array.isArray(v.audit) || !v.audit.every(isObject)) return '"audit" is not a list of entries';
  if (!Array.isArray(v.drops) || !v.drops.every((d) => isObject(d) && typeof d.revision === 'number' && Array.isArray(d.keys))) return '"drops" is not a list of counter drops';
  return null;
}

function checkCountersFile(v: unknown): string | null {
  const h = header(v, 'counters');
  if (h !== null || !isObject(v)) return h;
  if (!isObject(v.hashes)) return '"hashes" is not an object';
  for (const [key, hash] of Object.entries(v.hashes)) {
    if (!isObject(hash) || !isObject(hash.values) || !(hash.expiresAt === null || typeof hash.expiresAt === 'number')) return `hash ${JSON.stringify(key)} is not a counter hash`;
    if (!Object.values(hash.values).every((x) => typeof x === 'number' && Number.isFinite(x))) return `hash ${JSON.stringify(key)} has a value that is not a finite number`;
  }
  return null;
}
