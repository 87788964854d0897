import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Upstream from 'uws-upstream';

/**
 * uWebSockets.js, loaded once: the first of these that loads here is used.
 *
 * 1. `uws-upstream` = @btc-vision/uwebsockets.js 20.57.0, an npm republication of the
 *    upstream uWS.js release binaries (upstream publishes on GitHub only). Binaries for Node
 *    20, 22, 24 and 25, linked against glibc 2.38: they do not load on Debian 12 (glibc 2.36).
 * 2. `uWebSockets.js` = @trufflesuite/uws-js-unofficial 20.30.0-unofficial.0, the build
 *    DESIGN.md pinned: its only x64 Linux binary for a supported Node is for Node 20 (ABI 115),
 *    and it loads on glibc 2.36. Its binary is required directly, past the package's own
 *    wrapper, which on failure prints to the console and returns its pure-JS server.
 * 3. That pure-JS server, as the last resort: it serves, far slower, and startup, `doctor`
 *    and a test say so.
 *
 * The code compiles against upstream's declarations (the ones re-exported below). Where the
 * 20.30 build's declarations lack something upstream's have, tsc names only these: its
 * TemplatedApp has no `close()` or `filter()`, its WebSocketBehavior no `dropped`. Do not use
 * them (the suite runs on 20.30 on Node 20, so a call would fail there). Upstream returns undefined from
 * getParameter/getQuery where 20.30 returns ''; callers treat both alike (`?? ''`).
 */
export type { HttpRequest, HttpResponse, RecognizedString, TemplatedApp, WebSocket, WebSocketBehavior, us_listen_socket, us_socket } from 'uws-upstream';

export type UwsApi = typeof Upstream;

/** One build the loader may try: its package (the real name, not the alias) and how to load it. */
export interface UwsCandidate {
  package: string;
  version: string;
  native: boolean;
  load(): UwsApi;
}

export interface UwsChoice {
  api: UwsApi;
  /** the build in use */
  loaded: { package: string; version: string; native: boolean };
  /** the builds before it that failed, and the builds after it (not tried), each with why */
  notLoaded: { package: string; version: string; reason: string }[];
}

/** Tries the candidates in order; the first whose load() returns is used. */
export function pickUws(candidates: readonly UwsCandidate[]): UwsChoice {
  const notLoaded: UwsChoice['notLoaded'] = [];
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    let api: UwsApi;
    try {
      api = c.load();
    } catch (e) {
      notLoaded.push({ package: c.package, version: c.version, reason: loadFailure(e) });
      continue;
    }
    for (const later of candidates.slice(i + 1)) {
      notLoaded.push({ package: later.package, version: later.version, reason: `not tried (${c.package} ${c.version} loaded)` });
    }
    return { api, loaded: { package: c.package, version: c.version, native: c.native }, notLoaded };
  }
  throw new Error(`no uWebSockets.js build loads here: ${notLoaded.map((n) => `${n.package} ${n.version}: ${n.reason}`).join('; ')}`);
}

/** The line of a load error that says why (dlopen's message, or which file is missing). */
function loadFailure(e: unknown): string {
  if (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'MODULE_NOT_FOUND') {
    const m = /Cannot find module '([^']+)'/.exec(String((e as Error).message));
    const missing = m?.[1] ?? '';
    return missing.endsWith('.node') ? `no binary for ${process.platform}-${process.arch} Node ABI ${process.versions.modules} (${missing.split('/').pop()})` : 'not installed';
  }
  // upstream wraps dlopen's error: "This version of uWS.js … supports only …\n\nError: <dlopen message>"
  const lines = (e instanceof Error ? e.message : String(e)).split('\n').filter((l) => l.trim() !== '');
  return (lines.at(-1) ?? 'unknown error').replace(/^Error: /, '');
}

const require = createRequire(import.meta.url);
/** The installed version, from the package.json above its entry point (upstream's `exports` hides package.json). */
const versionOf = (alias: string): string => {
  let dir: string;
  try {
    dir = dirname(require.resolve(alias));
  } catch {
    return 'not installed';
  }
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  }
  return 'unknown';
};
const LEGACY = '@trufflesuite/uws-js-unofficial';

// The 20.30 build's declarations differ from upstream's only as the header says; the casts
// below give it upstream's type.
const choice = pickUws([
  { package: '@btc-vision/uwebsockets.js', version: versionOf('uws-upstream'), native: true, load: () => require('uws-upstream') as UwsApi },
  {
    package: LEGACY,
    version: versionOf('uWebSockets.js'),
    native: true,
    // the path the package's own src/uws.js requires (exact version pinned in package.json)
    load: () => require(`uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`) as UwsApi,
  },
  { package: `${LEGACY} (pure-JS fallback)`, version: versionOf('uWebSockets.js'), native: false, load: () => require('uWebSockets.js/dist/index') as UwsApi },
]);

export const uws: UwsApi = choice.api;

/** Which build serves and why the others do not; for startup, `doctor` and tests. */
export const uwsBuild: Readonly<UwsChoice['loaded']> = Object.freeze(choice.loaded);
export const uwsNotLoaded: readonly Readonly<UwsChoice['notLoaded'][number]>[] = Object.freeze(choice.notLoaded.map((n) => Object.freeze(n)));

/** True when a native binary loaded, false on the pure-JS fallback. */
export const uwsNative: boolean = choice.loaded.native;
