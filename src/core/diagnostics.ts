/**
 * The diagnostics channels (`node:diagnostics_channel`) that the gateway and the doors
 * publish. Their subscribers (metrics and statistics in telemetry/) sit below the publishers
 * in the layering, so the names and payloads are declared here rather than beside the
 * publishers; the inner layers declare theirs beside their publishers (batching/,
 * features/, routing/diagnostics.ts, repository's MODEL_LOAD_CHANNEL). The README lists all.
 */

/** Published by the gateway once per request: { model, version, protocol, status, totalUs, queueUs }. */
export const REQUEST_END_CHANNEL = 'switchyard:request:end';

export interface RequestEnd {
  model: string;
  version: string;
  protocol: string;
  /** 'success' or the GatewayError code */
  status: string;
  totalUs: number;
  queueUs: number;
}

/** Published by the WebSocket door for each protocol violation: { reason }. */
export const WS_VIOLATION_CHANNEL = 'switchyard:ws:violation';
/** Published by the WebSocket door each time a connection's send buffer stops it from starting requests. */
export const WS_BACKPRESSURE_CHANNEL = 'switchyard:ws:backpressure';

export interface WsViolation {
  /** bounded: too_large, bad_frame, bad_json, missing_id */
  reason: string;
}
