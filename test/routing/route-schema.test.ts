import { describe, expect, it } from 'vitest';
import { formatIssue, normaliseServerConfig, routeConfigIssues, schemaDocuments, validateServerConfig } from '../../src/config/index.js';
import { normaliseRouteSpec, parseRouteSpec } from '../../src/routing/index.js';
import { catalogOf } from './helpers.js';

const lines = (config: unknown) => routeConfigIssues(config, () => 'switchyard.yaml').map(formatIssue);

describe('the routes: section of the config', () => {
  it('accepts the three shapes of the issue, versions as strings or numbers', () => {
    const routes = {
      ab: {
        policy: 'weighted',
        targets: [
          { model: 'tabular', version: '1', weight: 90 },
          { model: 'tabular', version: 2, weight: 10 },
        ],
        sticky: { header: 'x-user-id' },
        shadow: [{ model: 'tabular', version: '2', percent: 100 }],
      },
      rel: {
        policy: 'canary',
        baseline: { model: 'tabular', version: '1' },
        candidate: { model: 'tabular', version: '2' },
        steps: [5, 25, 50, 100],
        step_interval_s: 60,
        analysis: { min_requests: 100, max_error_rate: 0.01, max_p99_latency_ratio: 1.5, min_reward_ratio: 0.95 },
      },
      mab: { policy: 'bandit', algorithm: 'epsilon_greedy', reward: 'bernoulli', epsilon: 0.1, targets: [{ model: 'tabular', version: '1' }, { model: 'tabular', version: '2' }] },
    };
    expect(lines({ routes })).toEqual([]);
    const { value } = normaliseServerConfig({ routes }, '/');
    expect(validateServerConfig(value, 'switchyard.yaml').routes.ab.policy).toBe('weighted');
  });

  it('names the path, the value and what was expected', () => {
    expect(lines({ routes: { ab: { policy: 'weighted', targets: [{ model: 'tabular', version: '1', weight: -1 }] } } })).toEqual([
      'config error in switchyard.yaml at routes.ab.targets[0].weight: got -1, expected a number >= 0',
    ]);
    expect(lines({ routes: { ab: { policy: 'wieghted' } } })).toEqual(['config error in switchyard.yaml at routes.ab.policy: got "wieghted", expected one of weighted | canary | bandit']);
    expect(lines({ routes: { rel: { policy: 'canary', baseline: { model: 'tabular', version: '1' }, candidate: { model: 'tabular', version: '0' }, steps: [5, 101] } } })).toEqual([
      'config error in switchyard.yaml at routes.rel.candidate.version: got "0", expected a version: a positive integer, as a string or a number',
      'config error in switchyard.yaml at routes.rel.steps[1]: got 101, expected a number <= 100',
    ]);
    expect(lines({ routes: { mab: { policy: 'bandit', algoritm: 'ucb1', targets: [] } } })).toEqual([
      'config error in switchyard.yaml at routes.mab.algoritm: unknown key, expected one of policy, algorithm, reward, epsilon, targets, shadow, allow_pinning (did you mean "algorithm"?)',
      'config error in switchyard.yaml at routes.mab.targets: got [], expected a list of at least 2 { model, version }',
    ]);
    expect(lines({ routes: { 'bad name': { policy: 'weighted', targets: [] } } })[0]).toMatch(/at routes\["bad name"\]: unknown key, expected a route name/);
  });

  it('defaults to no routes', () => {
    const { value } = normaliseServerConfig({}, '/');
    expect(validateServerConfig(value, 'x').routes).toEqual({});
  });

  it('the published JSON Schema describes every policy for editors', () => {
    const server = JSON.parse(schemaDocuments()[0].text) as { properties: { routes: { patternProperties: Record<string, { anyOf: { properties: { policy: { const: string } } }[] }> } } };
    const variants = Object.values(server.properties.routes.patternProperties)[0].anyOf;
    expect(variants.map((v) => v.properties.policy.const)).toEqual(['weighted', 'canary', 'bandit']);
  });
});

describe('normalising a route spec', () => {
  it('fills in the defaults (a normalised spec is a valid input and normalises to itself)', () => {
    const spec = parseRouteSpec('rel', { policy: 'canary', baseline: { model: 'tabular', version: 1 }, candidate: { model: 'tabular', version: 2 } }, catalogOf());
    expect(spec).toEqual({
      policy: 'canary',
      baseline: { model: 'tabular', version: '1' },
      candidate: { model: 'tabular', version: '2' },
      steps: [5, 25, 50, 100],
      step_interval_s: 60,
      analysis: { min_requests: 100, max_error_rate: 0.01, max_p99_latency_ratio: 1.5, min_reward_ratio: 0.95 },
      shadow: [],
      allow_pinning: true,
    });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(normaliseRouteSpec(structuredClone(spec) as never)).toEqual(spec);
    const bandit = parseRouteSpec('mab', { policy: 'bandit', algorithm: 'epsilon_greedy', targets: [{ model: 'tabular', version: 1 }, { model: 'tabular', version: 2 }] }, catalogOf());
    expect(bandit).toMatchObject({ algorithm: 'epsilon_greedy', reward: 'bernoulli', epsilon: 0.1 });
    expect(parseRouteSpec('mab', { policy: 'bandit', targets: [{ model: 'tabular', version: 1 }, { model: 'tabular', version: 2 }] }, catalogOf())).not.toHaveProperty('epsilon');
  });
});
