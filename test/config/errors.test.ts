import { describe, expect, it } from 'vitest';
import { ConfigError, formatValue } from '../../src/config/index.js';
import { configIssue, formatPath } from '../../src/config/errors.js';
import { closestKey, editDistance } from '../../src/config/suggest.js';

describe('ConfigError', () => {
  it('carries path, value and expected of its first issue, and every issue', () => {
    const issues = [
      configIssue({ source: 'a.yaml', path: 'http.port', value: 'abc', expected: 'an integer 0..65535' }),
      configIssue({ source: 'a.yaml', path: 'threads', value: -1, expected: 'an integer >= 0' }),
    ];
    const e = new ConfigError(issues);
    expect(e).toBeInstanceOf(Error);
    expect(e.path).toBe('http.port');
    expect(e.value).toBe('abc');
    expect(e.expected).toBe('an integer 0..65535');
    expect(e.issues).toHaveLength(2);
    expect(e.message).toBe(
      'config error in a.yaml at http.port: got "abc", expected an integer 0..65535\nconfig error in a.yaml at threads: got -1, expected an integer >= 0',
    );
  });

  it('needs at least one issue', () => {
    expect(() => new ConfigError([])).toThrow(TypeError);
  });
});

describe('formatting', () => {
  it('values are short JSON with URL passwords masked', () => {
    expect(formatValue(undefined)).toBe('nothing');
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(formatValue('x')).toBe('"x"');
    expect(formatValue({ a: [1] })).toBe('{"a":[1]}');
    expect(formatValue('x'.repeat(200))).toHaveLength(80);
    expect(formatValue('redis://:pw@h:1')).toBe('"redis://:***@h:1"');
  });

  it('paths are dotted, list indexes in brackets, odd keys quoted', () => {
    expect(formatPath([])).toBe('');
    expect(formatPath(['dynamic_batching', 'preferred_batch_sizes', 2])).toBe('dynamic_batching.preferred_batch_sizes[2]');
    expect(formatPath(['http', 'a b'])).toBe('http["a b"]');
  });
});

describe('did you mean', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('prot', 'port')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only close keys', () => {
    expect(closestKey('prot', ['host', 'port'])).toBe('port');
    expect(closestKey('maxBatchSize', ['max_batch_size'])).toBe('max_batch_size');
    expect(closestKey('max_batch', ['max_batch_size', 'instance_count'])).toBe('max_batch_size');
    expect(closestKey('colour', ['host', 'port'])).toBeNull();
  });
});
