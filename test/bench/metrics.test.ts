/** The bench's reading of switchyard's request counter: failed requests over a window, by status. */
import { describe, expect, it } from 'vitest';
import { parsePrometheus } from '../../src/loadgen/server-metrics.js';
import { failedInWindow, outcomeSnapshot } from '../../bench/lib/metrics.js';

const text = (notFound: number, ok: number): string => `# HELP switchyard_requests_total Inference requests by model, version, protocol and outcome (success or error code)
# TYPE switchyard_requests_total counter
switchyard_requests_total{model="tabular",version="1",protocol="grpc",status="success"} ${ok}
switchyard_requests_total{model="nope",version="",protocol="grpc",status="SY_ERR_MODEL_NOT_FOUND"} ${notFound}
switchyard_requests_total{model="tabular",version="1",protocol="rest",status="SY_ERR_QUEUE_FULL"} 7
`;

describe('switchyard_requests_total over a window', () => {
  it('counts the failures of one door, by status', () => {
    const before = outcomeSnapshot(parsePrometheus(text(2, 100)), 'grpc');
    const after = outcomeSnapshot(parsePrometheus(text(12, 250)), 'grpc');
    expect(after).toEqual({ success: 250, failed: { SY_ERR_MODEL_NOT_FOUND: 12 } });
    expect(failedInWindow(before, after)).toEqual({ SY_ERR_MODEL_NOT_FOUND: 10 });
    expect(failedInWindow(after, after)).toEqual({});
  });
});
