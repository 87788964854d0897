import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  featureConfigIssues,
  normaliseFeatureConfig,
  normaliseServerConfig,
  parseServerConfig,
  validateServerConfig,
  type ServerConfig,
} from '../../src/config/index.js';
import { compileFeatures } from '../../src/features/index.js';

const SOURCE = 'conf/switchyard.yaml';
const BASE = path.resolve('/srv/switchyard/conf');

/**
 * parse → normalise → validate, with the feature steps run explicitly (they are idempotent,
 * so this holds whether or not server-config.ts runs them itself).
 */
function load(text: string): ServerConfig {
  const n = normaliseServerConfig(parseServerConfig(text, SOURCE), BASE, {}, { cwd: BASE, availableParallelism: 2 });
  normaliseFeatureConfig(n.value, BASE);
  const config = validateServerConfig(n.value, SOURCE, n.origins);
  const issues = featureConfigIssues(n.value, () => SOURCE);
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

function errorOf(text: string): string {
  try {
    load(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const ISSUE_EXAMPLE = `
redis: { url: redis://127.0.0.1:6379 }
features:
  views:
    customer:
      entity: customer_id
      key: "customer:{id}"
      fields: [age, tenure_days, spend_30d]
      dtype: FP32
      defaults: { age: 35 }
      ttl_ms: 1000
models:
  tabular:
    features: { input: x, views: [customer] }
`;

describe('features config', () => {
  it("accepts the issue's example and fills in each view's defaults", () => {
    const c = load(ISSUE_EXAMPLE);
    expect(c.features.views.customer).toEqual({
      entity: 'customer_id',
      key: 'customer:{id}',
      fields: ['age', 'tenure_days', 'spend_30d'],
      dtype: 'FP32',
      defaults: { age: 35 },
      ttl_ms: 1000,
      format: 'hash',
      cache_max_entries: 100000,
    });
    expect(c.models.tabular.features).toEqual({ input: 'x', views: ['customer'] });
  });

  it('has no views and no bindings by default', () => {
    const c = load('');
    expect(c.features).toEqual({ views: {}, lookup_timeout_ms: 50 });
    expect(c.models).toEqual({});
    expect(load('features:\nmodels:\n').features).toEqual({ views: {}, lookup_timeout_ms: 50 });
  });

  it("resolves a view's file against the config file's folder", () => {
    const c = load('features: { views: { c: { entity: id, fields: [a], file: features/c.jsonl } } }');
    expect(c.features.views.c.file).toBe(path.join(BASE, 'features', 'c.jsonl'));
    expect(c.features.views.c.key).toBe('c:{id}');
  });

  it('rejects unknown keys in a view, naming the key', () => {
    expect(errorOf('features: { views: { c: { entity: id, feilds: [a], fields: [a] } } }')).toMatch(/features\.views\.c\.feilds/);
  });

  it('rejects a dtype that is not numeric', () => {
    expect(errorOf('features: { views: { c: { entity: id, fields: [a], dtype: BYTES } } }')).toMatch(/features\.views\.c\.dtype: got "BYTES", expected one of BOOL \| UINT8/);
  });

  it('rejects a key template without {id}', () => {
    expect(errorOf('features: { views: { c: { entity: id, fields: [a], key: "customer" } } }')).toMatch(/features\.views\.c\.key.*\{id\}/);
  });

  it('needs entity for a hash view, and defaults only for its fields', () => {
    const message = errorOf('features: { views: { c: { fields: [a], defaults: { b: 1 } } } }');
    expect(message).toMatch(/features\.views\.c\.entity/);
    expect(message).toMatch(/features\.views\.c\.defaults\.b: got 1, expected a default for one of the view's fields \(a\)/);
  });

  it('needs project, feature_view and join_keys for a Feast view, and no hash-only keys', () => {
    const message = errorOf('features: { views: { d: { format: feast, fields: [a], key: "x:{id}" } } }');
    expect(message).toMatch(/features\.views\.d\.key/);
    expect(message).toMatch(/features\.views\.d\.project/);
    expect(message).toMatch(/features\.views\.d\.feature_view/);
    expect(message).toMatch(/features\.views\.d\.join_keys/);
  });

  it('accepts Feast join keys as a list or with their types', () => {
    const c = load(`
features:
  views:
    a: { format: feast, project: p, feature_view: fv, join_keys: [customer_id], fields: [x] }
    b: { format: feast, project: p, feature_view: fv, join_keys: { driver_id: INT64 }, fields: [x], max_age_s: 3600 }
`);
    expect(c.features.views.b.join_keys).toEqual({ driver_id: 'INT64' });
    expect(errorOf('features: { views: { b: { format: feast, project: p, feature_view: fv, join_keys: { d: FLOAT }, fields: [x] } } }')).toMatch(/join_keys/);
  });

  it('rejects a binding to a view that does not exist, listing those that do', () => {
    const message = errorOf(`
features: { views: { customer: { entity: customer_id, fields: [a] } } }
models: { tabular: { features: { input: x, views: [custmer] } } }
`);
    expect(message).toMatch(/models\.tabular\.features\.views\[0\]: got "custmer", expected one of the views under features\.views: customer/);
  });

  it('rejects a binding whose input is the entity input of its view', () => {
    expect(
      errorOf(`
features: { views: { customer: { entity: x, fields: [a] } } }
models: { tabular: { features: { input: x, views: [customer] } } }
`),
    ).toMatch(/models\.tabular\.features\.input/);
  });

  it('refuses, at startup, a default that is not a value of the dtype', () => {
    expect(() => compileFeatures({ c: { entity: 'id', fields: ['a'], dtype: 'INT8', defaults: { a: 300 } } }, {}, BASE)).toThrow(
      /features\.views\.c\.defaults\.a: got 300, expected a value of the view's dtype INT8/,
    );
  });
});
