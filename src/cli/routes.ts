/**
 * `switchyard routes …`: the release engineer's command line over the admin API of a running
 * gateway (`--url`, default $SWITCHYARD_URL or http://127.0.0.1:8000; the token from
 * $SWITCHYARD_ADMIN_TOKEN). Errors print the gateway's message and exit 1.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';

interface Connection {
  url: string;
  token: string | null;
}

class CliError extends Error {}

function connection(opts: { url?: string }): Connection {
  const url = (opts.url ?? process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');
  const token = process.env.SWITCHYARD_ADMIN_TOKEN;
  return { url, token: token === undefined || token === '' ? null : token };
}

async function call(c: Connection, method: string, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = { 'x-switchyard-actor': `cli:${process.env.USER ?? 'unknown'}` };
  if (c.token !== null) headers.authorization = `Bearer ${c.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${c.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new CliError(`cannot reach the gateway at ${c.url} (${cause}); pass --url or set SWITCHYARD_URL`);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    throw new CliError(`${method} ${path}: the gateway answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const msg = json !== null && typeof json === 'object' && 'error' in json ? String((json as { error: unknown }).error) : text.slice(0, 200);
    throw new CliError(`${method} ${path}: ${res.status}: ${msg}`);
  }
  return json;
}

const seg = (s: string): string => encodeURIComponent(s);

interface RouteSummary {
  name: string;
  policy: string;
  spec: { targets?: { model: string; version: string; weight?: number }[]; baseline?: { model: string; version: string }; candidate?: { model: string; version: string } };
  targets: { model: string; version: string; requests: number; errors: number }[];
  canary: { state: string; step: number; percent: number } | null;
}

/** One line per route: name, policy, what it sends where, and its state. */
function formatList(routes: RouteSummary[]): string {
  if (routes.length === 0) return 'no routes\n';
  const rows = routes.map((r) => {
    let split: string;
    if (r.canary !== null && r.spec.baseline !== undefined && r.spec.candidate !== undefined) {
      split = `${r.spec.baseline.model}:${r.spec.baseline.version} ${100 - r.canary.percent}% / ${r.spec.candidate.model}:${r.spec.candidate.version} ${r.canary.percent}% (${r.canary.state}, step ${r.canary.step})`;
    } else {
      split = (r.spec.targets ?? []).map((t) => `${t.model}:${t.version}${t.weight === undefined ? '' : ` ${t.weight}`}`).join(' / ');
    }
    const served = r.targets.map((t) => `${t.model}:${t.version} ${t.requests} req ${t.errors} err`).join(', ');
    return [r.name, r.policy, split, served];
  });
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['route', 'policy', 'split'][i].length));
  const line = (cols: string[]): string => `${cols.slice(0, 3).map((c, i) => c.padEnd(widths[i])).join('  ')}  ${cols[3]}\n`;
  return line(['route', 'policy', 'split', 'served']) + rows.map(line).join('');
}

/** `model:version=weight` arguments → {"model:version": weight}. */
export function parseWeights(args: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of args) {
    const m = /^([^=\s]+:[^=\s]+)=(\d+(?:\.\d+)?)$/.exec(a);
    if (m === null) throw new CliError(`weight ${JSON.stringify(a)}: expected model:version=weight, e.g. tabular:2=10`);
    out[m[1]] = Number(m[2]);
  }
  if (Object.keys(out).length === 0) throw new CliError('give at least one model:version=weight');
  return out;
}

function readSpec(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new CliError(`${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs an action, turning a CliError into its message and exit code 1. */
function run<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      process.stderr.write(`switchyard: ${e.message}\n`);
      process.exitCode = 1;
    }
  };
}

export function addRoutesCommand(program: Command): void {
  const routes = program.command('routes').description('inspect and change routes on a running gateway (admin API; token from SWITCHYARD_ADMIN_TOKEN)');
  const url = ['--url <url>', 'gateway base URL (default $SWITCHYARD_URL or http://127.0.0.1:8000)'] as const;
  routes
    .command('list')
    .description('every route: policy, split and requests served per target')
    .option(...url)
    .option('--json', 'print the JSON the gateway answered')
    .action(
      run(async (opts: { url?: string; json?: boolean }) => {
        const r = (await call(connection(opts), 'GET', '/admin/routes')) as { routes: RouteSummary[] };
        if (opts.json === true) print(r);
        else process.stdout.write(formatList(r.routes));
      }),
    );
  routes
    .command('get <name>')
    .description('one route: spec, canary step and history, bandit arms, per-target counts (JSON)')
    .option(...url)
    .action(run(async (name: string, opts: { url?: string }) => print(await call(connection(opts), 'GET', `/admin/routes/${seg(name)}`))));
  routes
    .command('set <name>')
    .description('create or replace a route from a spec file (JSON or YAML, the shape of the config file\'s routes entries)')
    .requiredOption('-f, --file <spec>', 'route spec file')
    .option(...url)
    .action(run(async (name: string, opts: { url?: string; file: string }) => print(await call(connection(opts), 'PUT', `/admin/routes/${seg(name)}`, readSpec(opts.file)))));
  routes
    .command('set-weights <name> <weights...>')
    .description('change only the weights: model:version=weight … (e.g. tabular:1=90 tabular:2=10; 0/100 is a blue/green switch)')
    .option(...url)
    .action(
      run(async (name: string, weights: string[], opts: { url?: string }) => {
        print(await call(connection(opts), 'PATCH', `/admin/routes/${seg(name)}`, { weights: parseWeights(weights) }));
      }),
    );
  for (const action of ['pause', 'resume', 'promote', 'rollback'] as const) {
    routes
      .command(`${action} <name>`)
      .description(`${action} a canary route`)
      .option(...url)
      .action(run(async (name: string, opts: { url?: string }) => print(await call(connection(opts), 'POST', `/admin/routes/${seg(name)}/${action}`))));
  }
  routes
    .command('delete <name>')
    .description('delete a route')
    .option(...url)
    .action(
      run(async (name: string, opts: { url?: string }) => {
        await call(connection(opts), 'DELETE', `/admin/routes/${seg(name)}`);
        process.stdout.write(`deleted route ${name}\n`);
      }),
    );
  routes
    .command('audit')
    .description('who changed which route, when, before and after (newest first)')
    .option('--limit <n>', 'entries', '20')
    .option(...url)
    .action(run(async (opts: { url?: string; limit: string }) => print(await call(connection(opts), 'GET', `/admin/audit?limit=${seg(opts.limit)}`))));
}
