import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchyard-moncfg-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const file = path.join(dir, 'switchyard.yaml');
  writeFileSync(file, yaml);
  return loadServerConfig(file, env);
}

const errorOf = (yaml: string, env: NodeJS.ProcessEnv = {}): string => {
  try {
    load(yaml, env);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a config error');
};

describe('monitoring config', () => {
  it('defaults: a JSON-lines file under logs/ beside the config file, no payloads, evaluation and drift on', () => {
    const c = load('{}\n');
    expect(c.request_log).toEqual({
      sinks: [{ type: 'file', path: path.join(dir, 'logs', 'requests.jsonl'), max_bytes: 104857600, max_files: 5 }],
      payload_sample_rate: 0,
      buffer_records: 10000,
      flush_interval_ms: 50,
      close_timeout_s: 10,
    });
    expect(c.evaluation).toMatchObject({ enabled: true, store: 'auto', ttl_s: 86400 });
    expect(c.drift).toMatchObject({ enabled: true, window: 1000, reference_requests: 1000, interval_s: 30, psi_threshold: 0.2, ks_threshold: 0.1 });
  });

  it("several sinks at once; a sink's missing keys take their defaults and relative paths are read from the config file's folder", () => {
    const c = load(
      [
        'redis: { url: "redis://localhost:6379" }',
        'request_log:',
        '  sinks:',
        '    - { type: file, path: out/req.jsonl, max_bytes: 2048 }',
        '    - { type: redis_stream, stream: "switchyard:requests", maxlen: 1000000 }',
        '    - { type: stdout }',
        '  payload_sample_rate: 0.25',
      ].join('\n'),
    );
    expect(c.request_log.sinks).toEqual([
      { type: 'file', path: path.join(dir, 'out', 'req.jsonl'), max_bytes: 2048, max_files: 5 },
      { type: 'redis_stream', stream: 'switchyard:requests', maxlen: 1000000, url: null },
      { type: 'stdout' },
    ]);
    expect(c.request_log.payload_sample_rate).toBe(0.25);
    expect(load('request_log:\n  sinks: []\n').request_log.sinks).toEqual([]);
  });

  it('names the key, the value and what is expected', () => {
    expect(errorOf('request_log:\n  sinks:\n    - { type: kafka }\n')).toContain('at request_log.sinks[0].type: got "kafka", expected one of file | redis_stream | stdout');
    expect(errorOf('request_log:\n  sinks:\n    - { type: file, max_byte: 10 }\n')).toContain('at request_log.sinks[0].max_byte: unknown key, expected one of type, path, max_bytes, max_files in a file sink (did you mean "max_bytes"?)');
    expect(errorOf('request_log:\n  payload_sample_rate: 1.5\n')).toContain('at request_log.payload_sample_rate: got 1.5, expected a number 0..1');
    expect(errorOf('drift:\n  psi_threshold: 0\n')).toContain('at drift.psi_threshold: got 0, expected a number > 0');
    expect(errorOf('drift:\n  windw: 10\n')).toContain('(did you mean "window"?)');
    expect(errorOf('evaluation:\n  ttl: 5\n')).toContain('at evaluation.ttl: unknown key');
  });

  it('whatever needs Redis needs a Redis URL (which the environment may give)', () => {
    const sink = 'request_log:\n  sinks:\n    - { type: redis_stream }\n';
    expect(errorOf(sink)).toContain('at request_log.sinks[0].url: got null, expected a redis:// URL here or in redis.url');
    expect(load(sink, { SWITCHYARD_REDIS_URL: 'redis://cache:6379' }).request_log.sinks[0]).toMatchObject({ type: 'redis_stream', url: null });
    expect(load('request_log:\n  sinks:\n    - { type: redis_stream, url: "redis://other:6379" }\n').request_log.sinks[0]).toMatchObject({ url: 'redis://other:6379' });
    expect(errorOf('evaluation:\n  store: redis\n')).toContain('at evaluation.store: got "redis", expected memory or auto while redis.url is null');
  });
});
