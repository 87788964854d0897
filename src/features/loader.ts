import type { Redis } from 'ioredis';
import { openRedis } from '../redis/index.js';
import type { FeatureViewConfig } from '../config/index.js';
import { silentLogger, type Logger } from '../core/index.js';
import { compileFeatures } from './compile.js';
import { FeastCodec } from './feast/feast-codec.js';
import { encodeFeastValue, encodeTimestamp } from './feast/value.js';
import { recordField, recordId } from './file-rows.js';
import { parseFeature } from './parse.js';
import { readRecords } from './records.js';
import type { FeatureView } from './view.js';

/** Rows sent per pipeline (one round trip each). */
export const LOAD_BATCH_ROWS = 1000;
/** Column a Feast view's file may carry the event time in (ISO 8601 or epoch seconds); default: now. */
export const EVENT_TIMESTAMP_COLUMN = 'event_timestamp';

export interface LoadFeaturesOptions {
  /** name of the view to write */
  readonly view: string;
  /** `features.views` of the server config */
  readonly views: Readonly<Record<string, FeatureViewConfig>>;
  /** .jsonl/.ndjson (one object per line) or .csv (header row), columns named by the view's id column(s) and fields */
  readonly file: string;
  readonly redisUrl: string;
  readonly log?: Logger;
  /** rows per pipelined batch (default LOAD_BATCH_ROWS) */
  readonly batchRows?: number;
}

export interface RejectedRow {
  /** 1-based line number in the file */
  readonly line: number;
  readonly reason: string;
}

export interface LoadFeaturesResult {
  /** entities written (one hash each) */
  readonly written: number;
  readonly rejected: RejectedRow[];
}

interface PendingWrite {
  readonly line: number;
  readonly key: string | Buffer;
  readonly args: (string | Buffer)[];
}

/**
 * Writes a file's rows into Redis in the view's layout, in pipelined batches: one HSET per
 * row with the fields it has (a row without a field leaves what Redis holds for it). Each
 * row is checked first (an id, every given field parsable to the view's dtype); a bad row
 * is rejected with its line number and why, the others are written. Hash views get the
 * values as text; Feast views serialized feast.types.Value fields and `_ts:<feature_view>`
 * (from an `event_timestamp` column, else now). Throws when the view is unknown, the file
 * cannot be read or Redis cannot be reached.
 */
export async function loadFeatures(opts: LoadFeaturesOptions): Promise<LoadFeaturesResult> {
  const log = opts.log ?? silentLogger;
  if (!Object.hasOwn(opts.views, opts.view)) {
    const known = Object.keys(opts.views);
    throw new Error(`unknown feature view "${opts.view}"; ${known.length === 0 ? 'the config defines none under features.views' : `known: ${known.join(', ')}`}`);
  }
  const { views } = compileFeatures({ [opts.view]: opts.views[opts.view] }, {}, process.cwd());
  const view = views.get(opts.view)!;
  const batchRows = opts.batchRows ?? LOAD_BATCH_ROWS;
  const client = openRedis(opts.redisUrl, 'feature-load'); // errors surface from connect() and exec()
  const rejected: RejectedRow[] = [];
  let written = 0;
  try {
    await client.connect();
    let batch: PendingWrite[] = [];
    for await (const record of readRecords(opts.file)) {
      if (record.values === null) {
        rejected.push({ line: record.line, reason: record.error ?? 'unreadable line' });
        continue;
      }
      const write = toWrite(view, record.line, record.values);
      if ('reason' in write) rejected.push(write);
      else batch.push(write);
      if (batch.length >= batchRows) {
        written += await flush(client, batch, rejected);
        batch = [];
      }
    }
    if (batch.length > 0) written += await flush(client, batch, rejected);
  } finally {
    client.disconnect();
  }
  rejected.sort((a, b) => a.line - b.line);
  log.info('features loaded', { view: opts.view, written, rejected: rejected.length });
  return { written, rejected };
}

/** The HSET of one record, or why it is rejected. */
function toWrite(view: FeatureView, line: number, values: Readonly<Record<string, unknown>>): PendingWrite | RejectedRow {
  const id = recordId(view, values);
  if (id.id === null) return { line, reason: id.error };
  const feast = view.codec instanceof FeastCodec ? view.codec : null;
  const args: (string | Buffer)[] = [];
  const errors: string[] = [];
  for (let i = 0; i < view.fields.length; i++) {
    const field = view.fields[i];
    const { text, error } = recordField(view, values, field);
    if (error !== null) errors.push(error);
    else if (text !== null) {
      if (feast === null) args.push(field, text);
      else args.push(feast.hashFields[i], Buffer.from(encodeFeastValue(view.dtype, parseFeature(view.dtype, values[field] as string | number | boolean)!)));
    }
  }
  if (errors.length > 0) return { line, reason: errors.join('; ') };
  if (args.length === 0) return { line, reason: `no values: none of the fields ${view.fields.join(', ')} is given` };
  if (feast !== null) {
    const ts = eventTimeMs(values[EVENT_TIMESTAMP_COLUMN]);
    if (ts === null) return { line, reason: `${EVENT_TIMESTAMP_COLUMN}: ${JSON.stringify(values[EVENT_TIMESTAMP_COLUMN])} is not an ISO 8601 time or epoch seconds` };
    args.push(feast.hashFields[view.fields.length], Buffer.from(encodeTimestamp(ts)));
  }
  return { line, key: view.codec.key(id.id), args };
}

function eventTimeMs(v: unknown): number | null {
  if (v === undefined || v === null || v === '') return Date.now();
  if (typeof v === 'number') return Number.isFinite(v) ? v * 1000 : null;
  if (typeof v !== 'string') return null;
  const text = v.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** One pipeline of HSETs; rows whose command failed are added to `rejected`. Returns rows written. */
async function flush(client: Redis, batch: readonly PendingWrite[], rejected: RejectedRow[]): Promise<number> {
  const pipeline = client.pipeline();
  for (const w of batch) pipeline.hset(w.key, ...w.args);
  const results = (await pipeline.exec()) ?? [];
  let ok = 0;
  for (let i = 0; i < batch.length; i++) {
    const err = results[i]?.[0] ?? null;
    if (err === null) ok++;
    else rejected.push({ line: batch[i].line, reason: `Redis refused the write: ${err.message}` });
  }
  return ok;
}
