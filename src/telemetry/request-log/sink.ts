import type { RequestRecord } from './record.js';

/**
 * Where request records go. A sink writes batches of serialised records; the writer calls
 * write() again only after the previous call settled (one batch in flight per sink), so a
 * sink needs no queue of its own.
 */
export interface RequestLogSink {
  /**
   * Short, bounded name: the `sink` label of the request log metrics and the name in log
   * lines ("file", "redis_stream", "stdout"; "file_2" for a second file sink).
   */
  readonly name: string;
  /**
   * Writes `lines` (one JSON record each, without newline), in order. The array belongs to
   * the writer, which reuses it once the returned promise settles: copy what must outlive
   * the call. Resolves with the number of records that could not be stored (usually 0);
   * a rejection (or a throw) means none was stored. The writer counts those as dropped.
   */
  write(lines: readonly string[]): Promise<number>;
  /**
   * Optional, preferred when present: writes the records themselves, in order, with the same
   * contract as write(). Lets a byte-stream sink serialise straight into its buffer
   * (RequestRecord.writeJson) instead of through one string per record.
   */
  writeRecords?(records: readonly RequestRecord[]): Promise<number>;
  /** Releases the sink's resources. Called once, after the last write settled or was given up. */
  close(): Promise<void>;
}
