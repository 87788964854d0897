import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';

/**
 * uWebSockets.js, loaded once. The package silently falls back to a slow pure-JS server
 * when its native binary cannot load (wrong glibc or Node ABI); `native` says which one is
 * in use so that startup, `doctor` and a test can report it.
 */
const require = createRequire(import.meta.url);
const loaded = require('uWebSockets.js') as typeof UWS;

export const uws: typeof UWS = loaded;

/** True when the native binary loaded (its App is a native function), false on the JS fallback. */
export const uwsNative: boolean = Function.prototype.toString.call(loaded.App).includes('[native code]');
