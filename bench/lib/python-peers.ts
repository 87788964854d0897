/**
 * The Python peers, MLServer and KServe's ModelServer, each serving the example ONNX file with
 * onnxruntime (bench/servers/mlserver/, bench/servers/kserve_peer.py), run from .venv-bench
 * (scripts/bench-venv.sh). Each prints a JSON ready line with its port once its model answers
 * ready, as the Node servers do, so lib/processes.ts starts and stops them the same way.
 *
 * CPU: MLServer runs with parallel_workers: 0 (bench/servers/mlserver/settings.json), so
 * inference is in the pid the bench reads. With workers (MLServer's default 1) they would be
 * child processes of it, which lib/threads.ts counts into "other" as well.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { jsonLine, spawnServer, type ServerProcess } from './processes.js';

/** The venv's python; BENCH_VENV moves the venv, as it does for scripts/bench-venv.sh. */
const venvPython = (repoRoot: string): string => path.join(process.env.BENCH_VENV ?? path.join(repoRoot, '.venv-bench'), 'bin', 'python');

/** null when .venv-bench is there and up to date, else what scripts/bench-venv.sh --check says to do. */
export function benchVenvProblem(repoRoot: string): string | null {
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'bench-venv.sh'), '--check'], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status === 0) return null;
  const said = `${r.stderr ?? ''}`.trim().replace(/^bench-venv: /, '');
  return said !== '' ? said : `.venv-bench is missing or stale: run \`bash scripts/bench-venv.sh\``;
}

export interface VenvPlan {
  /** the cases to run */
  run: string[];
  /** the cases left out, and why (empty when none) */
  skipped: string[];
  reason: string | null;
}

/**
 * Which of `cases` run when the venv has `problem` (null: none). Cases that need it are left
 * out, with the reason, when the case list was the default; when they were asked for by
 * name (`--cases`, BENCH_CASES) the bench stops before any server starts, as it does for a
 * missing wrk or h2load.
 */
export function planVenvCases(cases: readonly string[], needVenv: ReadonlySet<string>, casesGiven: boolean, problem: string | null): VenvPlan {
  const needing = cases.filter((c) => needVenv.has(c));
  if (problem === null || needing.length === 0) return { run: [...cases], skipped: [], reason: null };
  if (casesGiven) throw new Error(`${needing.join(', ')}: ${problem}`);
  return { run: cases.filter((c) => !needVenv.has(c)), skipped: needing, reason: problem };
}

function startPython(repoRoot: string, name: string, args: readonly string[], facts: (rec: Record<string, unknown>) => Record<string, string>): Promise<ServerProcess> {
  return spawnServer({
    name,
    command: venvPython(repoRoot),
    args,
    cwd: repoRoot,
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
    readyStream: 'stdout',
    // Python imports and model load take a few seconds; the ready line waits for /ready
    startTimeoutMs: 90_000,
    parseReady(line) {
      const rec = jsonLine(line);
      if (rec === null || typeof rec.port !== 'number') return null;
      return { port: rec.port, facts: facts(rec) };
    },
  });
}

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : 'unknown');

/** MLServer serving bench/servers/mlserver/<model>/model-settings.json (see its serve.py for the config). */
export function startMlserver(repoRoot: string, model: string): Promise<ServerProcess> {
  const serve = path.join(repoRoot, 'bench', 'servers', 'mlserver', 'serve.py');
  return startPython(repoRoot, 'mlserver', [serve, '127.0.0.1', '0', model], (rec) => ({
    mlserver: str(rec.mlserver),
    ort: `onnxruntime ${str(rec.ort)} (Python)`,
    parallel_workers: str(rec.parallel_workers),
  }));
}

/** KServe's ModelServer with bench/servers/kserve_peer.py's model on `modelPath`, named `name`. */
export function startKserve(repoRoot: string, modelPath: string, name: string): Promise<ServerProcess> {
  const script = path.join(repoRoot, 'bench', 'servers', 'kserve_peer.py');
  return startPython(repoRoot, 'kserve', [script, '127.0.0.1', '0', modelPath, name], (rec) => ({
    kserve: str(rec.kserve),
    ort: `onnxruntime ${str(rec.ort)} (Python)`,
  }));
}
