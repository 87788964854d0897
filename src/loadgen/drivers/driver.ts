/**
 * A driver speaks one protocol to the target; the schedulers (closed and open loop) decide
 * when to send. The hand-over:
 *
 * - the scheduler owns its slots (0 ≤ slot < sink.slots): a slot holds at most one request
 *   at a time, and the scheduler calls `send(sink, slot)` only for a free slot;
 * - the driver owns the request from `send` until it calls `sink.done(slot, …)`, exactly
 *   once per send, and never from inside `send` (always from a later I/O callback or
 *   setImmediate), so a scheduler's send loop cannot recurse;
 * - a sink is one measured phase; answers to requests of an earlier sink still on the wire
 *   go to that sink (which ignores them once it has finished) or are dropped.
 */

/** Where answers go: one phase of a run. */
export interface Sink {
  /** distinct per phase: drivers that match answers by id put it in the id */
  readonly id: number;
  /** the phase's slot count */
  readonly slots: number;
  /**
   * `slot`'s request was answered. `error` is null on success, else its kind, e.g.
   * `http 503`, `grpc RESOURCE_EXHAUSTED`, `connect ECONNREFUSED`; `detail` is the server's
   * message or the error's, kept as a sample of that kind.
   */
  done(slot: number, error: string | null, detail: string | null): void;
}

export interface Driver {
  /** connections (HTTP), channels (gRPC), streams or sockets it uses */
  readonly connections: number;
  /** opens its connections where the protocol has to; resolves when it can send */
  open(): Promise<void>;
  send(sink: Sink, slot: number): void;
  /** closes every connection; requests still on the wire are dropped */
  close(): Promise<void>;
}

/** A kind for a socket-level error: `connect ECONNREFUSED`, `socket ECONNRESET`, `timeout`. */
export function socketErrorKind(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string') return e instanceof Error ? e.name : 'error';
  if (code.includes('TIMEOUT')) return 'timeout';
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EAI_AGAIN') return `connect ${code}`;
  if (code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return 'socket closed';
  return `socket ${code}`;
}

/** The server's message from an error body: the "error" of a JSON object, else the text. */
export function serverMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown };
    if (typeof j?.error === 'string') return j.error;
  } catch {
    // not JSON (or cut short): the text as it is
  }
  return body.trim();
}
