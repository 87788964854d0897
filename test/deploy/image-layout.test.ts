/**
 * The image's file system, without a Docker daemon: scripts/image-build.sh (the script the
 * Dockerfile RUNs) lays out /app in a temp folder; the tree is made read-only and the gateway
 * runs from it with the Dockerfile's own default command, as an unprivileged user when this
 * process is root (as CI is). It must serve, infer (features included) and write its request log.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanEnv, listeningPort } from '../helpers/cli.js';

const DOCKERFILE = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

/** The JSON-array form of a Dockerfile instruction (`CMD ["a", "b"]`), joined over `\` lines. */
function instruction(name: string): string[] {
  const joined = DOCKERFILE.replace(/\\\n/g, ' ');
  const line = joined.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`the Dockerfile has no ${name}`);
  const json = line.slice(line.indexOf('['));
  return JSON.parse(json) as string[];
}

/** uid/gid to run the gateway as: nobody when root, else this user (who cannot drop privileges). */
function unprivileged(): { uid: number; gid: number; wrap: string[] } {
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, wrap: [] };
  const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
  return { uid, gid, wrap: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--inh-caps=-all', '--'] };
}

/** Every file under dir, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name));
}

function chmodTree(dir: string, strip: number): void {
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(d.parentPath, d.name);
    if (d.isSymbolicLink()) continue;
    chmodSync(p, statSync(p).mode & ~strip & 0o7777);
  }
  chmodSync(dir, statSync(dir).mode & ~strip & 0o7777);
}

describe('the image file system (scripts/image-build.sh)', () => {
  let tmp = '';
  let app = '';
  let child: ChildProcess | null = null;
  let port = 0;
  const logs: string[] = [];
  const user = unprivileged();

  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run npm run build first (npm test does)');
    tmp = mkdtempSync(path.join(os.tmpdir(), 'switchyard-image-'));
    chmodSync(tmp, 0o755); // mkdtemp makes it 0700: the unprivileged user must reach /app
    app = path.join(tmp, 'app');
    execFileSync('bash', [path.join(ROOT, 'scripts', 'image-build.sh'), app], {
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', NPM_CI_FLAGS: '--prefer-offline' },
      stdio: 'pipe',
    });
    // as the Dockerfile: the program read-only, the log folder the gateway user's
    chmodTree(app, 0o222);
    for (const writable of ['logs', 'state']) {
      const d = path.join(app, 'examples', writable);
      if (process.getuid?.() === 0) chownSync(d, user.uid, user.gid);
      chmodSync(d, 0o755);
    }

    const [entry, ...entryArgs] = [...instruction('ENTRYPOINT'), ...instruction('CMD')];
    const command = [...user.wrap, entry === 'node' ? process.execPath : entry!, ...entryArgs];
    child = spawn(command[0]!, command.slice(1), {
      cwd: app,
      env: cleanEnv({ SWITCHYARD_HTTP_PORT: '0', SWITCHYARD_GRPC_PORT: '0', NODE_ENV: 'production', HOME: tmp }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    port = await listeningPort(child, logs);
  }, 60_000);

  afterAll(async () => {
    if (child !== null && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (tmp !== '') {
      execFileSync('chmod', ['-R', 'u+w', tmp]);
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('keeps only the Linux x64 native binaries of onnxruntime-node and both uWebSockets.js builds', () => {
    const natives = files(path.join(app, 'node_modules')).filter((f) => /\.(node|dll|dylib)$|\.so(\.|$)/.test(f));
    const ours = natives.filter((f) => ['onnxruntime-node', 'uWebSockets.js', 'uws-upstream'].some((p) => f.includes(`${path.sep}${p}${path.sep}`)));
    expect(ours.some((f) => f.endsWith(path.join('linux', 'x64', 'onnxruntime_binding.node')))).toBe(true);
    expect(ours.some((f) => f.includes(`${path.sep}uWebSockets.js${path.sep}`) && /uws_linux_x64_\d+\.node$/.test(f))).toBe(true);
    expect(ours.some((f) => f.includes(`${path.sep}uws-upstream${path.sep}`) && /uws_linux_x64_137\.node$/.test(f))).toBe(true);
    const foreign = ours.filter((f) => !f.includes(path.join('linux', 'x64')) && !/uws_linux_x64_\d+\.node$/.test(f));
    expect(foreign).toEqual([]);
  });

  it('serves the example repository and config with the Dockerfile CMD: ready, native uWS, and its HEALTHCHECK passes', () => {
    const listening = logs.map((l) => JSON.parse(l.startsWith('{') ? l : '{}') as { msg?: string; uws?: string; models?: string[] }).find((r) => r.msg === 'switchyard listening');
    expect(listening?.uws).toBe('native');
    expect(listening?.models).toEqual(expect.arrayContaining(['simple@1:READY', 'tabular@1:READY', 'tabular@2:READY']));
    const [cmd, ...args] = instruction('HEALTHCHECK');
    expect(cmd).toBe('node');
    execFileSync(process.execPath, args, { env: { ...process.env, SWITCHYARD_HTTP_PORT: String(port) }, stdio: 'pipe' });
  });

  it("carries the KServe runtime's config where deploy/k8s/kserve/servingruntime.yaml points", () => {
    expect(readFileSync(path.join(app, 'config', 'kserve.yaml'), 'utf8')).toBe(readFileSync(path.join(ROOT, 'deploy', 'k8s', 'kserve', 'switchyard-kserve.yaml'), 'utf8'));
  });

  it('answers ready and infers, with features from examples/features', async () => {
    const ready = await fetch(`http://127.0.0.1:${port}/v2/health/ready`);
    expect(ready.status).toBe(200);
    const simple = await fetch(`http://127.0.0.1:${port}/v2/models/simple/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'image-layout-simple',
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
        ],
      }),
    });
    expect(simple.status).toBe(200);
    const out = (await simple.json()) as { outputs: { name: string; data: number[] }[] };
    expect(out.outputs.find((o) => o.name === 'OUTPUT0')?.data.slice(0, 3)).toEqual([1, 2, 3]);
    const tabular = await fetch(`http://127.0.0.1:${port}/v2/models/tabular/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'customer_id', datatype: 'BYTES', shape: [2], data: ['c1', 'c2'] }] }),
    });
    expect(tabular.status).toBe(200);
  });

  it('writes the request log where the gateway user can, and nothing else in the tree', async () => {
    const file = path.join(app, 'examples', 'logs', 'requests.jsonl');
    const deadline = Date.now() + 10_000;
    let text = '';
    while (Date.now() < deadline) {
      text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      if (text.includes('image-layout-simple')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const records = text.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { request_id: string; status: string; model_name: string });
    expect(records).toContainEqual(expect.objectContaining({ request_id: 'image-layout-simple', status: 'success', model_name: 'simple' }));
    expect(statSync(file).uid).toBe(user.uid);
    // the gateway logged no dropped records
    expect(logs.filter((l) => /dropped|EACCES|EROFS/.test(l))).toEqual([]);
    // the tree really is read-only for that user
    if (user.wrap.length > 0) {
      expect(() => execFileSync(user.wrap[0]!, [...user.wrap.slice(1), 'touch', path.join(app, 'dist', 'probe')], { stdio: 'pipe' })).toThrow();
    }
  });
});
