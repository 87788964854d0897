import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'switchyard-gen-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

it('src/gen/ is exactly what `npm run proto:generate` makes from proto/', () => {
  // the npm script itself, writing under a temp dir instead of the checkout
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'proto-generate.mjs'), out], { cwd: ROOT, stdio: 'pipe' });
  const committed = join(ROOT, 'src', 'gen');
  const fresh = out;
  const list = (dir: string) => files(dir).map((f) => relative(dir, f)).sort();
  expect(list(fresh), 'run `npm run proto:generate` and commit src/gen/').toEqual(list(committed));
  for (const f of list(fresh)) {
    expect(readFileSync(join(committed, f), 'utf8'), `src/gen/${f} is out of date: run \`npm run proto:generate\``).toBe(readFileSync(join(fresh, f), 'utf8'));
  }
}, 60_000);
