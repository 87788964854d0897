import { describe, expect, it } from 'vitest';
import { isConfigError, normaliseServerConfig, validateServerConfig, type ServerConfig } from '../../src/config/index.js';

function configWith(webhooks: Record<string, unknown>[], settings: Record<string, unknown> = {}): ServerConfig {
  const n = normaliseServerConfig({ webhooks, webhook_settings: settings }, '/tmp', {});
  return validateServerConfig(n.value, 'test.yaml');
}

describe('webhook config', () => {
  it('a URL that is not http(s) is a config error naming the key', () => {
    const e = (() => {
      try {
        configWith([{ url: 'https://ok.example/a' }, { url: 'ftp://files.example/hook' }]);
      } catch (err) {
        return err as Error;
      }
      throw new Error('no error');
    })();
    expect(isConfigError(e)).toBe(true);
    expect(e.message).toBe('config error in test.yaml at webhooks[1].url: got "ftp://files.example/hook", expected an http:// or https:// URL');
  });

  it('events must be known types; secret and secret_env exclude each other; names are distinct', () => {
    const message = (hooks: Record<string, unknown>[]) => {
      try {
        configWith(hooks);
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(message([{ url: 'http://a/x', events: ['canary.rolled_back', 'ab.verdict'] }])).toMatch(/webhooks\[0\]\.events\[1\]: got "ab.verdict", expected one of canary\.step \| /);
    expect(message([{ url: 'http://a/x', secret: 's', secret_env: 'S' }])).toMatch(/webhooks\[0\]\.secret_env: got "S", expected null when secret is set/);
    expect(message([{ url: 'http://a/x' }, { url: 'http://a/y' }])).toMatch(/webhooks\[1\]\.name: got null, expected a name other than "a"/);
    expect(message([{ url: 'http://a/x' }, { url: 'http://a/y', name: 'second' }])).toBe('');
  });
});

describe('webhook config defaults', () => {
  it('fills every key of a webhook; webhooks: null means none', () => {
    const c = configWith([{ url: 'https://hooks.example/switchyard' }]);
    expect(c.webhooks[0]).toEqual({
      url: 'https://hooks.example/switchyard',
      name: null,
      events: null,
      secret: null,
      secret_env: null,
      timeout_ms: 5000,
      max_retries: 5,
      retry_initial_ms: 500,
      retry_max_ms: 60000,
      queue_size: 1000,
      online_accuracy_below: null,
      shadow_disagreement_above: null,
    });
    expect(c.webhook_settings).toMatchObject({ online_accuracy_below: null, accuracy_min_labels: 100, close_timeout_s: 5 });
    const n = normaliseServerConfig({ webhooks: null }, '/tmp', {});
    expect(validateServerConfig(n.value, 'test.yaml').webhooks).toEqual([]);
  });

  it('retry_max_ms below retry_initial_ms is refused', () => {
    expect(() => configWith([{ url: 'http://a/x', retry_initial_ms: 1000, retry_max_ms: 10 }])).toThrow(/webhooks\[0\]\.retry_max_ms: got 10, expected an integer >= retry_initial_ms \(1000\)/);
  });
});
