/** `switchyard bench` options: defaults, units, lists, and what a bad option says. */
import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseBenchOptions, parseDuration } from '../../src/loadgen/index.js';

describe('bench options', () => {
  it('fills in the defaults', () => {
    const o = parseBenchOptions({ model: 'tabular' });
    expect(o.url).toBe('http://127.0.0.1:8000');
    expect(o.grpcAddress).toBe('127.0.0.1:8001');
    expect(o.protocol).toBe('http');
    expect(o.plan).toEqual({ mode: 'concurrency', values: [1, 16, 64, 256] });
    expect(o.durationMs).toBe(10_000);
    expect(o.warmupMs).toBe(2000);
    expect(o.inputData).toEqual({ kind: 'random' });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('takes the gRPC host from --url, and shapes, rates and units as given', () => {
    const o = parseBenchOptions({ model: 'm', url: 'http://gpu-box:9000/', rate: '1000,2500.5', duration: '2m', warmup: '0', shape: ['x:1,16', 'ids:4'], batchSize: '8', inputData: 'zeros' });
    expect(o.url).toBe('http://gpu-box:9000');
    expect(o.grpcAddress).toBe('gpu-box:8001');
    expect(o.plan).toEqual({ mode: 'rate', values: [1000, 2500.5] });
    expect(o.durationMs).toBe(120_000);
    expect(o.warmupMs).toBe(0);
    expect(o.shapes).toEqual({ x: [1, 16], ids: [4] });
    expect(o.batchSize).toBe(8);
    expect(o.inputData).toEqual({ kind: 'zeros' });
    expect(parseBenchOptions({ model: 'm', grpcUrl: 'grpc://h:1' }).grpcAddress).toBe('h:1');
  });

  it('reads durations in ms, s and m', () => {
    expect(parseDuration('--duration', '500ms', false)).toBe(500);
    expect(parseDuration('--duration', '1.5s', false)).toBe(1500);
    expect(parseDuration('--duration', '3', false)).toBe(3000);
    expect(parseDuration('--duration', '1m', false)).toBe(60_000);
  });

  it('parses a sweep, numbers as numbers', () => {
    const o = parseBenchOptions({ model: 'm', sweep: 'max_queue_delay_us=0,100,500', config: 'examples/switchyard.yaml' });
    expect(o.sweep).toEqual({ key: 'max_queue_delay_us', values: [0, 100, 500], config: 'examples/switchyard.yaml' });
  });

  it.each([
    [{}, /--model <name> is required/],
    [{ model: 'm', protocol: 'udp' }, /--protocol "udp": expected one of http, http-binary, grpc, grpc-stream, ws/],
    [{ model: 'm', concurrency: '1,x' }, /--concurrency "1,x": "x" is not a whole number >= 1/],
    [{ model: 'm', concurrency: '4', rate: '100' }, /--concurrency and --rate exclude each other/],
    [{ model: 'm', duration: '10 minutes' }, /--duration "10 minutes": expected a duration such as 30s, 500ms or 2m/],
    [{ model: 'm', duration: '0s' }, /--duration "0s": expected a duration > 0/],
    [{ model: 'm', shape: ['x=1,16'] }, /--shape "x=1,16": expected <input>:<dims>, e.g. x:1,16/],
    [{ model: 'm', url: 'localhost:8000' }, /--url "localhost:8000": expected http:\/\/ or https:\/\//],
    [{ model: 'm', inputData: 'ones' }, /--input-data "ones": expected random, zeros or a \.json file/],
    [{ model: 'm', sweep: 'max_queue_delay_us=0,100' }, /--sweep restarts a local gateway for each value: give its config with --config/],
    [{ model: 'm', batchSize: '0' }, /--batch-size "0": expected a whole number >= 1/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseBenchOptions(raw)).toThrow(BenchUsageError);
    expect(() => parseBenchOptions(raw)).toThrow(message);
  });
});
