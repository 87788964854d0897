import { describe, expect, it } from 'vitest';
import { pickUws, uwsBuild, uwsNotLoaded, type UwsApi, type UwsCandidate } from '../../src/transport/http/uws.js';

const fakeApi = {} as UwsApi;
const loads = (name: string, native = true): UwsCandidate => ({ package: name, version: '1.0.0', native, load: () => fakeApi });
const fails = (name: string, error: unknown): UwsCandidate => ({
  package: name,
  version: '1.0.0',
  native: true,
  load: () => {
    throw error;
  },
});
const notFound = (what: string): Error => Object.assign(new Error(`Cannot find module '${what}'\nRequire stack:\n- /x/uws.js`), { code: 'MODULE_NOT_FOUND' });

describe('choosing the uWebSockets.js build', () => {
  it('uses the first build that loads and says the later ones were not tried', () => {
    const c = pickUws([loads('new'), loads('old'), loads('js', false)]);
    expect(c.api).toBe(fakeApi);
    expect(c.loaded).toEqual({ package: 'new', version: '1.0.0', native: true });
    expect(c.notLoaded).toEqual([
      { package: 'old', version: '1.0.0', reason: 'not tried (new 1.0.0 loaded)' },
      { package: 'js', version: '1.0.0', reason: 'not tried (new 1.0.0 loaded)' },
    ]);
  });

  it("falls back past a binary the C library cannot load, keeping dlopen's reason", () => {
    const glibc = new Error(
      'This version of uWS.js (v20.57.0) supports only Node.js versions 20, 22, 24 and 25 on (glibc) Linux …\n\n' +
        "Error: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /m/uws_linux_x64_115.node)",
    );
    const c = pickUws([fails('new', glibc), loads('old')]);
    expect(c.loaded.package).toBe('old');
    expect(c.notLoaded).toEqual([
      { package: 'new', version: '1.0.0', reason: "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /m/uws_linux_x64_115.node)" },
    ]);
  });

  it('names a missing binary for this Node ABI, and a package that is not installed', () => {
    const c = pickUws([fails('new', notFound('uws-upstream')), fails('old', notFound('/m/binaries/uws_linux_x64_137.node')), loads('js', false)]);
    expect(c.loaded).toEqual({ package: 'js', version: '1.0.0', native: false });
    expect(c.notLoaded[0]!.reason).toBe('not installed');
    expect(c.notLoaded[1]!.reason).toBe(`no binary for ${process.platform}-${process.arch} Node ABI ${process.versions.modules} (uws_linux_x64_137.node)`);
  });

  it('fails with every reason when nothing loads', () => {
    expect(() => pickUws([fails('new', new Error('a')), fails('old', new Error('b'))])).toThrow('no uWebSockets.js build loads here: new 1.0.0: a; old 1.0.0: b');
  });

  it('here, loaded one build natively and accounts for the other two', () => {
    expect(uwsBuild.native).toBe(true);
    expect(uwsNotLoaded).toHaveLength(2);
    // Node 20 on glibc < 2.38 (Debian 12) can only load the 20.30 build; elsewhere upstream loads first
    if (uwsBuild.package === '@trufflesuite/uws-js-unofficial') expect(uwsNotLoaded[0]!.reason).toMatch(/GLIBC_2\.38|not installed/);
    else expect(uwsBuild.package).toBe('@btc-vision/uwebsockets.js');
  });
});
