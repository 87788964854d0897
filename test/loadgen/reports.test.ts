/**
 * The report files: JSON has every step with its numbers, markdown has the table, the SVG is
 * well-formed XML with a line per percentile and run, axis labels, ticks and a legend.
 */
import { describe, expect, it } from 'vitest';
import { Recorder, clientLoad, formatJson, formatMarkdown, formatText, parseBenchOptions, renderSvg, summarise, type BenchReport, type ServerStats } from '../../src/loadgen/index.js';
import { linearTicks, logTicks } from '../../src/loadgen/report/index.js';

function step(value: number, latencies: number[], errors: Record<string, number>, server: ServerStats | null, eventLoop = 0.3) {
  const r = new Recorder();
  for (const ms of latencies) {
    r.requests++;
    r.success(ms, true);
  }
  for (const [kind, n] of Object.entries(errors)) {
    r.requests += n;
    r.failure(kind, `sample of ${kind}`, n);
  }
  return summarise({ recorder: r, seconds: 2 }, { mode: 'concurrency', value, connections: value, slots: value }, server, clientLoad(r.requests * 40, eventLoop, 2, r.requests));
}

const server: ServerStats = {
  batches: 10,
  meanBatchSize: 3.5,
  batchSizes: [
    { min: 1, max: 1, batches: 4 },
    { min: 3, max: 4, batches: 6 },
  ],
  reasons: { instance_free: 10 },
  queueMs: 0.25,
  computeMs: 1.5,
};

function report(): BenchReport {
  const options = parseBenchOptions({ model: 'tabular', concurrency: '1,8,32', sweep: 'max_queue_delay_us=0,500', config: 'examples/switchyard.yaml' });
  const run = (value: number, slow: number) => ({
    sweep: { key: 'max_queue_delay_us', value },
    url: 'http://127.0.0.1:1234',
    grpcAddress: '127.0.0.1:1235',
    steps: [step(1, [0.5, 0.6, 0.7], {}, server), step(8, [1, 2, 3, slow], { 'http 503': 2 }, server), step(32, [4, 5, 6 * slow], { timeout: 1 }, server)],
  });
  return {
    tool: 'switchyard bench',
    version: '0.1.0',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    options,
    machine: { platform: 'linux', release: '6', arch: 'x64', cpuModel: 'cpu', cpus: 2, memoryGiB: 8, node: 'v20.19.0' },
    target: {
      protocol: 'http',
      server: { name: 'switchyard', version: '0.1.0', extensions: [] },
      model: { name: 'tabular', versions: ['1'], platform: 'onnxruntime_onnx', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 16] }], outputs: [] },
      switchyard: true,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 16] }],
    },
    runs: [run(0, 10), run(500, 20)],
  };
}

describe('the JSON report', () => {
  it('parses and holds the options, machine, target and every step with its numbers', () => {
    const json = JSON.parse(formatJson(report())) as BenchReport;
    expect(json.options.plan).toEqual({ mode: 'concurrency', values: [1, 8, 32] });
    expect(json.machine.cpus).toBe(2);
    expect(json.target.model.name).toBe('tabular');
    expect(json.runs.map((r) => r.sweep?.value)).toEqual([0, 500]);
    expect(json.runs[1].steps.map((s) => s.label)).toEqual(['c=1', 'c=8', 'c=32']);
    const s = json.runs[0].steps[1];
    expect(s.requests).toBe(6);
    expect(s.successes).toBe(4);
    expect(s.failures).toBe(2);
    expect(s.errors).toEqual({ 'http 503': 2 });
    expect(s.errorSamples).toEqual({ 'http 503': 'sample of http 503' });
    expect(s.reqPerSec).toBe(2);
    expect(s.latencyMs!.max).toBeCloseTo(10, 1);
    expect(s.server!.batchSizes).toHaveLength(2);
  });
});

describe('the markdown and text reports', () => {
  it('have a table per run with a row per step', () => {
    const md = formatMarkdown(report());
    expect(md).toContain('## max_queue_delay_us=0');
    expect(md).toContain('## max_queue_delay_us=500');
    expect(md).toMatch(/^\| step \| req\/s \| p50 ms \| p90 ms \| p99 ms \| p99\.9 ms \| max ms \| mean ms \| errors \| batch \| queue ms \| compute ms \| client µs\/req \| client loop \|$/m);
    expect(md.match(/^\| c=8 \|/gm)).toHaveLength(2);
    expect(md).toContain('2 (http 503: 2)');
    expect(md).toContain('batches by size: 1: 4, 3-4: 6');
    const text = formatText(report());
    expect(text).toMatch(/^c=32\s+1\.5\s/m);
    expect(text).toContain('c=8 http 503: sample of http 503');
    // 40 µs of CPU per request, the event loop 30% busy: not the limit
    expect(md).toMatch(/^\| c=1 \|.* \| 40\.0 \| 30% \|$/m);
    expect(text).not.toContain('set the pace');
  });

  it('say when the client, not the server, was the limit', () => {
    const r = report();
    const limited = { ...r, runs: r.runs.map((run) => ({ ...run, steps: [...run.steps.slice(0, 2), step(32, [4, 5, 6], {}, server, 0.96)] })) };
    const text = formatText(limited);
    expect(text).toMatch(/^c=32 .* 96% ⚠$/m);
    expect(text).toContain("⚠ c=32: this client's event loop was busy ≥ 90% of the window, so the client, not the server, set the pace");
    expect(formatMarkdown(limited)).toContain("- ⚠ c=32: this client's event loop was busy ≥ 90%");
    expect(clientLoad(2_000_000, 0.5, 2, 1000)).toEqual({ cpuUsPerRequest: 2000, cores: 1, eventLoop: 0.5, limited: false });
  });
});

describe('the SVG plot', () => {
  it('is an SVG document with a line per percentile and run, axes and a legend', () => {
    const svg = renderSvg(report());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // well-formed: every element opened is closed
    const tags = [...svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)];
    const stack: string[] = [];
    for (const [, close, name, selfClose] of tags) {
      if (selfClose === '/') continue;
      if (close === '/') expect(stack.pop()).toBe(name);
      else stack.push(name);
    }
    expect(stack).toEqual([]);
    for (const p of ['p50', 'p90', 'p99']) expect(svg.match(new RegExp(`<polyline class="series ${p}"`, 'g'))).toHaveLength(2);
    const line = /<polyline class="series p99" data-run="max_queue_delay_us=500"[^>]* points="([^"]+)"/.exec(svg);
    expect(line![1].split(' ')).toHaveLength(3);
    expect(svg).toContain('throughput (successful requests/s)');
    expect(svg).toContain('latency (ms, log scale)');
    expect(svg).toContain('<g class="legend">');
    expect(svg).toContain('>max_queue_delay_us=500</text>');
  });

  it('puts ticks on round numbers covering the data', () => {
    expect(linearTicks(1234)).toEqual([0, 500, 1000, 1500]);
    expect(logTicks(0.3, 40)).toEqual({ lo: 0.1, hi: 100, ticks: [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100] });
  });
});
