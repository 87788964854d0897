import { describe, expect, it } from 'vitest';
import {
  parseModelConfig,
  resolveModelConfig,
  validateModelConfig,
  type ModelConfig,
  type PartialModelConfig,
  type VersionPolicy,
} from '../../src/config/index.js';
import { configErrorOf } from './helpers.js';

const SOURCE = 'resnet/config.yaml';

function fromText(text: string, defaults: PartialModelConfig | null = null): ModelConfig {
  return resolveModelConfig(parseModelConfig(text, SOURCE), defaults, SOURCE);
}

const DEFAULTS: ModelConfig = {
  max_batch_size: 'auto',
  dynamic_batching: {
    max_queue_delay_us: 0,
    preferred_batch_sizes: [],
    max_queue_size: 1024,
    default_timeout_us: 0,
    priority_levels: 1,
    default_priority_level: 1,
  },
  instance_count: 1,
  execution_providers: ['cpu'],
  intra_op_threads: 0,
  version_policy: { latest: 1 },
  outputs: {},
};

describe('model config defaults', () => {
  it('no file and no model_defaults give the built-in defaults', () => {
    expect(resolveModelConfig(null, null, SOURCE)).toEqual(DEFAULTS);
    expect(resolveModelConfig(null, {}, SOURCE)).toEqual(DEFAULTS);
    expect(fromText('')).toEqual(DEFAULTS);
  });

  it('a partial dynamic_batching keeps the other batching defaults', () => {
    const c = fromText('dynamic_batching: { max_queue_delay_us: 200 }');
    expect(c.dynamic_batching).toEqual({ ...DEFAULTS.dynamic_batching, max_queue_delay_us: 200 });
  });

  it('an empty dynamic_batching section (null) means the defaults', () => {
    expect(fromText('dynamic_batching:\n  # max_queue_delay_us: 100\n').dynamic_batching).toEqual(DEFAULTS.dynamic_batching);
  });

  it('keeps every key the file sets', () => {
    const c = fromText(`
max_batch_size: 32
dynamic_batching:
  max_queue_delay_us: 100
  preferred_batch_sizes: [16, 4, 32]
  max_queue_size: 0
  default_timeout_us: 5000
  priority_levels: 3
  default_priority_level: 2
instance_count: 4
execution_providers: [tensorrt, cuda, cpu]
intra_op_threads: 2
version_policy: all
outputs: { probabilities: { label_filename: labels.txt } }
`);
    expect(c).toEqual({
      max_batch_size: 32,
      dynamic_batching: {
        max_queue_delay_us: 100,
        preferred_batch_sizes: [4, 16, 32],
        max_queue_size: 0,
        default_timeout_us: 5000,
        priority_levels: 3,
        default_priority_level: 2,
      },
      instance_count: 4,
      execution_providers: ['tensorrt', 'cuda', 'cpu'],
      intra_op_threads: 2,
      version_policy: 'all',
      outputs: { probabilities: { label_filename: 'labels.txt' } },
    });
  });

  it('outputs: settings by output name, label_filename a non-empty string', () => {
    expect(configErrorOf(() => fromText('outputs: { y: { label_filename: "" } }')).issues.map((i) => i.path)).toEqual(['outputs.y.label_filename']);
    expect(configErrorOf(() => fromText('outputs: { y: { labels: a.txt } }')).issues.map((i) => i.path)).toEqual(['outputs.y.labels']);
  });

  it('default_priority_level 0 means the lowest level (priority_levels)', () => {
    expect(fromText('dynamic_batching: { priority_levels: 5 }').dynamic_batching.default_priority_level).toBe(5);
    expect(fromText('dynamic_batching: { priority_levels: 5, default_priority_level: 0 }').dynamic_batching.default_priority_level).toBe(5);
    expect(fromText('dynamic_batching: { priority_levels: 5, default_priority_level: 1 }').dynamic_batching.default_priority_level).toBe(1);
  });

  it('is deeply frozen', () => {
    const c = fromText('execution_providers: [cuda, cpu]\nversion_policy: { specific: [1, 3] }');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.dynamic_batching)).toBe(true);
    expect(Object.isFrozen(c.execution_providers)).toBe(true);
    expect(Object.isFrozen((c.version_policy as { specific: readonly number[] }).specific)).toBe(true);
    expect(() => {
      (c.execution_providers as string[]).push('cpu');
    }).toThrow(TypeError);
  });

  it('does not change the model_defaults it was given', () => {
    const defaults = { dynamic_batching: { priority_levels: 2 }, execution_providers: ['cuda' as const] };
    fromText('dynamic_batching: { max_queue_size: 1 }', defaults);
    expect(defaults).toEqual({ dynamic_batching: { priority_levels: 2 }, execution_providers: ['cuda'] });
  });
});

describe('model config merging: built-in defaults ← server model_defaults ← file', () => {
  const serverDefaults: PartialModelConfig = {
    max_batch_size: 16,
    instance_count: 2,
    dynamic_batching: { max_queue_delay_us: 500, max_queue_size: 10 },
    execution_providers: ['cuda', 'cpu'],
  };

  it('model_defaults apply where the file is silent', () => {
    const c = resolveModelConfig(null, serverDefaults, SOURCE);
    expect(c.max_batch_size).toBe(16);
    expect(c.instance_count).toBe(2);
    expect(c.dynamic_batching.max_queue_delay_us).toBe(500);
    expect(c.dynamic_batching.max_queue_size).toBe(10);
    expect(c.execution_providers).toEqual(['cuda', 'cpu']);
    expect(c.intra_op_threads).toBe(0);
  });

  it('the file wins, key by key inside dynamic_batching', () => {
    const c = fromText('max_batch_size: 8\ndynamic_batching: { max_queue_size: 99 }\nexecution_providers: [cpu]', serverDefaults);
    expect(c.max_batch_size).toBe(8);
    expect(c.instance_count).toBe(2);
    expect(c.dynamic_batching.max_queue_size).toBe(99);
    expect(c.dynamic_batching.max_queue_delay_us).toBe(500);
    expect(c.execution_providers).toEqual(['cpu']);
  });

  it('version_policy is replaced whole, never mixed', () => {
    const c = fromText('version_policy: { specific: [2] }', { version_policy: { latest: 3 } });
    expect(c.version_policy).toEqual({ specific: [2] });
    expect(fromText('', { version_policy: 'all' }).version_policy).toBe('all');
  });

  it('a file raising priority_levels keeps "0 = lowest" from the built-in default', () => {
    expect(fromText('dynamic_batching: { priority_levels: 4 }', serverDefaults).dynamic_batching.default_priority_level).toBe(4);
  });
});

describe('model config version_policy forms', () => {
  const good: [string, VersionPolicy][] = [
    ['version_policy: all', 'all'],
    ['version_policy: { latest: 2 }', { latest: 2 }],
    ['version_policy: { specific: [1, 3] }', { specific: [1, 3] }],
  ];
  it.each(good)('%s', (yaml, policy) => {
    expect(fromText(yaml).version_policy).toEqual(policy);
  });

  const union = '"all", { latest: <integer >= 1> } or { specific: [<integer >= 1>, ...] }';
  const bad: [yaml: string, path: string, shown: string, expected: string][] = [
    ['version_policy: some', 'version_policy', '"some"', union],
    ['version_policy: {}', 'version_policy', '{}', union],
    ['version_policy: { latest: 1, specific: [1] }', 'version_policy', '{"latest":1,"specific":[1]}', union],
    ['version_policy: [1]', 'version_policy', '[1]', union],
    ['version_policy: { latest: 0 }', 'version_policy.latest', '0', 'an integer >= 1'],
    ['version_policy: { latest: two }', 'version_policy.latest', '"two"', 'an integer >= 1'],
    ['version_policy: { specific: [] }', 'version_policy.specific', '[]', 'a non-empty list of distinct integers >= 1'],
    ['version_policy: { specific: [1, 1] }', 'version_policy.specific', '[1,1]', 'a non-empty list of distinct integers >= 1'],
    ['version_policy: { specific: [1, 0] }', 'version_policy.specific[1]', '0', 'an integer >= 1'],
  ];
  it.each(bad)('rejects %s', (yaml, keyPath, shown, expected) => {
    const e = configErrorOf(() => fromText(yaml));
    expect(e.issues).toHaveLength(1);
    expect(e.message).toBe(`config error in ${SOURCE} at ${keyPath}: got ${shown}, expected ${expected}`);
  });

  it('a misspelt policy key is reported at version_policy with the accepted forms', () => {
    const e = configErrorOf(() => fromText('version_policy: { lastest: 2 }'));
    expect(e.message).toBe(`config error in ${SOURCE} at version_policy: got {"lastest":2}, expected ${union}`);
  });
});

describe('model config validation: one message per key', () => {
  const cases: [yaml: string, path: string, shown: string, expected: string][] = [
    ['max_batch_size: -1', 'max_batch_size', '-1', 'an integer >= 0 or "auto"'],
    ['max_batch_size: big', 'max_batch_size', '"big"', 'an integer >= 0 or "auto"'],
    ['max_batch_size: 2.5', 'max_batch_size', '2.5', 'an integer >= 0 or "auto"'],
    ['dynamic_batching: 5', 'dynamic_batching', '5', 'a mapping'],
    ['dynamic_batching: { max_queue_delay_us: -5 }', 'dynamic_batching.max_queue_delay_us', '-5', 'an integer >= 0'],
    ['dynamic_batching: { preferred_batch_sizes: 8 }', 'dynamic_batching.preferred_batch_sizes', '8', 'a list of distinct integers >= 1'],
    ['dynamic_batching: { preferred_batch_sizes: [4, 0] }', 'dynamic_batching.preferred_batch_sizes[1]', '0', 'an integer >= 1'],
    ['dynamic_batching: { preferred_batch_sizes: [4, 4] }', 'dynamic_batching.preferred_batch_sizes', '[4,4]', 'a list of distinct integers >= 1'],
    ['dynamic_batching: { max_queue_size: -1 }', 'dynamic_batching.max_queue_size', '-1', 'an integer >= 0'],
    ['dynamic_batching: { default_timeout_us: 1.5 }', 'dynamic_batching.default_timeout_us', '1.5', 'an integer >= 0'],
    ['dynamic_batching: { priority_levels: 0 }', 'dynamic_batching.priority_levels', '0', 'an integer >= 1'],
    ['dynamic_batching: { default_priority_level: -1 }', 'dynamic_batching.default_priority_level', '-1', 'an integer >= 0'],
    [
      'dynamic_batching: { priority_levels: 2, default_priority_level: 3 }',
      'dynamic_batching.default_priority_level',
      '3',
      'an integer 0..priority_levels (2); 0 = the lowest',
    ],
    ['instance_count: 0', 'instance_count', '0', 'an integer >= 1'],
    ['instance_count: "2"', 'instance_count', '"2"', 'an integer >= 1'],
    ['execution_providers: []', 'execution_providers', '[]', 'a non-empty list of distinct providers, each one of cpu | cuda | tensorrt'],
    ['execution_providers: cpu', 'execution_providers', '"cpu"', 'a non-empty list of distinct providers, each one of cpu | cuda | tensorrt'],
    ['execution_providers: [cpu, cpu]', 'execution_providers', '["cpu","cpu"]', 'a non-empty list of distinct providers, each one of cpu | cuda | tensorrt'],
    ['execution_providers: [cuda, gpu]', 'execution_providers[1]', '"gpu"', 'one of cpu | cuda | tensorrt'],
    ['intra_op_threads: -1', 'intra_op_threads', '-1', 'an integer >= 0'],
  ];
  it.each(cases)('%s → %s', (yaml, keyPath, shown, expected) => {
    const e = configErrorOf(() => fromText(yaml));
    expect(e.issues).toHaveLength(1);
    expect(e.path).toBe(keyPath);
    expect(e.expected).toBe(expected);
    expect(e.message).toBe(`config error in ${SOURCE} at ${keyPath}: got ${shown}, expected ${expected}`);
  });
});

describe('model config: preferred_batch_sizes and max_batch_size', () => {
  it('a preferred size above max_batch_size is an error at that element', () => {
    const e = configErrorOf(() => fromText('max_batch_size: 8\ndynamic_batching: { preferred_batch_sizes: [4, 16, 8, 32] }'));
    expect(e.message.split('\n')).toEqual([
      `config error in ${SOURCE} at dynamic_batching.preferred_batch_sizes[1]: got 16, expected an integer <= max_batch_size (8)`,
      `config error in ${SOURCE} at dynamic_batching.preferred_batch_sizes[3]: got 32, expected an integer <= max_batch_size (8)`,
    ]);
  });

  it('is not checked while max_batch_size is "auto" or 0', () => {
    expect(fromText('dynamic_batching: { preferred_batch_sizes: [128] }').dynamic_batching.preferred_batch_sizes).toEqual([128]);
    expect(fromText('max_batch_size: 0\ndynamic_batching: { preferred_batch_sizes: [128] }').max_batch_size).toBe(0);
  });

  it('equal to max_batch_size is fine', () => {
    expect(fromText('max_batch_size: 8\ndynamic_batching: { preferred_batch_sizes: [8] }').dynamic_batching.preferred_batch_sizes).toEqual([8]);
  });

  it('says so when the list came from the server model_defaults', () => {
    const e = configErrorOf(() => fromText('max_batch_size: 4', { dynamic_batching: { preferred_batch_sizes: [8] } }));
    expect(e.message).toBe(
      `config error in ${SOURCE} at dynamic_batching.preferred_batch_sizes[0]: got 8, expected an integer <= max_batch_size (4) (this list comes from the server config's model_defaults)`,
    );
  });
});

describe('model config: several errors and unknown keys', () => {
  it('reports all problems at once, in file order', () => {
    const e = configErrorOf(() =>
      fromText(`
instance_count: 0
max_queue_delay_us: 100
execution_providers: [gpu]
dynamic_batching:
  max_queue_size: -1
  prefered_batch_sizes: [8]
`),
    );
    expect(e.message.split('\n')).toEqual([
      `config error in ${SOURCE} at instance_count: got 0, expected an integer >= 1`,
      `config error in ${SOURCE} at max_queue_delay_us: unknown key, expected one of max_batch_size, dynamic_batching, instance_count, execution_providers, intra_op_threads, version_policy, outputs (did you mean dynamic_batching.max_queue_delay_us?)`,
      `config error in ${SOURCE} at execution_providers[0]: got "gpu", expected one of cpu | cuda | tensorrt`,
      `config error in ${SOURCE} at dynamic_batching.max_queue_size: got -1, expected an integer >= 0`,
      `config error in ${SOURCE} at dynamic_batching.prefered_batch_sizes: unknown key, expected one of max_queue_delay_us, preferred_batch_sizes, max_queue_size, default_timeout_us, priority_levels, default_priority_level (did you mean "preferred_batch_sizes"?)`,
    ]);
  });

  it('a file that is not a mapping', () => {
    const e = configErrorOf(() => fromText('- 1\n'));
    expect(e.message).toBe(`config error in ${SOURCE}: got [1], expected a mapping`);
  });

  it('YAML errors name the file', () => {
    expect(configErrorOf(() => parseModelConfig('a: [1\n', SOURCE)).message).toMatch(/^config error in resnet\/config\.yaml: not valid YAML: /);
  });

  it('validateModelConfig checks a complete config', () => {
    expect(validateModelConfig(structuredClone(DEFAULTS), SOURCE)).toEqual(DEFAULTS);
    const e = configErrorOf(() => validateModelConfig({ ...DEFAULTS, instance_count: undefined }, SOURCE));
    expect(e.message).toBe(`config error in ${SOURCE} at instance_count: got nothing, expected an integer >= 1`);
  });
});
