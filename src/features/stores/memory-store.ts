import type { Logger } from '../../core/index.js';
import { recordField, recordId } from '../file-rows.js';
import { decodeValues } from '../hash-codec.js';
import { readRecords } from '../records.js';
import type { FeatureRow } from '../row.js';
import type { FeatureView } from '../view.js';
import type { FeatureStore } from './store.js';

/** Rejected lines logged per file (the rest are only counted). */
const LOGGED_REJECTS = 5;

/**
 * The embedded store: each view's rows loaded at startup from the file its config names
 * (JSON lines or CSV, as `switchyard features load` reads them), held in a Map per view.
 * A view without a file has no entities (every lookup is a missing entity).
 */
export class MemoryFeatureStore implements FeatureStore {
  readonly kind = 'memory' as const;
  readonly remote = false;
  private readonly rows = new Map<FeatureView, Map<string, FeatureRow>>();

  /** Loads the file of every view that names one. Throws when a file cannot be opened. */
  static async load(views: Iterable<FeatureView>, log: Logger): Promise<MemoryFeatureStore> {
    const store = new MemoryFeatureStore();
    for (const view of views) {
      if (view.file === null) {
        log.warn('feature view has no Redis and no file: every lookup uses its defaults', { view: view.name });
        continue;
      }
      await store.loadFile(view, view.file, log);
    }
    return store;
  }

  /** Adds (or replaces) the rows of `view` from a file. */
  async loadFile(view: FeatureView, file: string, log: Logger): Promise<{ loaded: number; rejected: number }> {
    let byId = this.rows.get(view);
    if (byId === undefined) {
      byId = new Map();
      this.rows.set(view, byId);
    }
    let loaded = 0;
    let rejected = 0;
    const values: unknown[] = new Array<unknown>(view.fields.length);
    for await (const record of readRecords(file)) {
      const id = record.values === null ? null : recordId(view, record.values);
      const error = record.error ?? id?.error ?? (record.values === null ? null : fieldErrors(view, record.values));
      if (record.values === null || id === null || id.id === null || error !== null) {
        if (rejected++ < LOGGED_REJECTS) log.warn('feature file: line skipped', { view: view.name, line: record.line, reason: error });
        continue;
      }
      for (let i = 0; i < view.fields.length; i++) values[i] = record.values[view.fields[i]];
      byId.set(id.id, decodeValues(view, values));
      loaded++;
    }
    log.info('feature view loaded into memory', { view: view.name, entities: byId.size, rows: loaded, skipped: rejected });
    return { loaded, rejected };
  }

  read(view: FeatureView, ids: readonly string[]): FeatureRow[] {
    const byId = this.rows.get(view);
    const out = new Array<FeatureRow>(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = byId?.get(ids[i]) ?? view.missingEntityRow;
    return out;
  }

  async close(): Promise<void> {
    this.rows.clear();
  }
}

/**
 * Why a record's fields are refused, or null: the rules of `switchyard features load`
 * (a value that does not parse to the view's dtype; no field given at all), so that a file
 * means the same embedded as loaded into Redis.
 */
function fieldErrors(view: FeatureView, values: Readonly<Record<string, unknown>>): string | null {
  const errors: string[] = [];
  let given = 0;
  for (const field of view.fields) {
    const { text, error } = recordField(view, values, field);
    if (error !== null) errors.push(error);
    else if (text !== null) given++;
  }
  if (errors.length > 0) return errors.join('; ');
  return given === 0 ? `no values: none of the fields ${view.fields.join(', ')} is given` : null;
}
