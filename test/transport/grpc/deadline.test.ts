import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { InferRequest } from '../../../src/core/index.js';
import { applyDeadline } from '../../../src/transport/grpc/index.js';

describe('gRPC deadlines', () => {
  const request = () => new InferRequest('m', null, [], 'grpc', performance.now());

  it("carries the call's deadline into the request on the batcher's clock", () => {
    const req = request();
    applyDeadline(req, { getDeadline: () => new Date(Date.now() + 250) });
    const left = req.deadline - performance.now();
    expect(left).toBeGreaterThan(200);
    expect(left).toBeLessThanOrEqual(250);
    const past = request();
    applyDeadline(past, { getDeadline: () => Date.now() - 10 });
    expect(past.deadline).toBeLessThan(performance.now());
  });

  it('leaves a request without a deadline unbounded', () => {
    const req = request();
    applyDeadline(req, { getDeadline: () => Infinity });
    expect(req.deadline).toBe(Infinity);
  });
});
