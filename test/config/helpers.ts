import { expect } from 'vitest';
import { ConfigError } from '../../src/config/index.js';

/** Runs `fn`, asserts it throws a ConfigError, and returns it. */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}
