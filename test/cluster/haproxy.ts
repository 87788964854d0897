/**
 * HAProxy (the Debian package `haproxy`, 2.6 on Debian 12) on loopback in front of the
 * gateways' HTTP ports, for the cluster run: round robin, health checks on
 * /v2/health/ready, and retries elsewhere when a replica refuses a connection, closes it
 * without an answer, or answers 503 (every switchyard 503 is a request it did not run:
 * draining, queue full, worker died). Each answer names the replica that gave it in
 * `x-served-by` (the server's name), which is how the run attributes answers to replicas.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';

export interface Backend {
  readonly name: string;
  /** 127.0.0.1:<port> */
  readonly address: string;
}

export interface HaproxyOptions {
  readonly port: number;
  /** the stats page (CSV at /stats;csv) */
  readonly statsPort: number;
  readonly backends: readonly Backend[];
  /** ms between two health checks of one replica */
  readonly checkIntervalMs: number;
}

export function haproxyConfig(o: HaproxyOptions): string {
  return `global
  maxconn 4096

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 30s
  # a request goes elsewhere when its replica cannot take it; each retry picks another server
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response 503

frontend switchyard
  bind 127.0.0.1:${o.port}
  default_backend gateways

backend gateways
  balance roundrobin
  option httpchk
  http-check send meth GET uri /v2/health/ready ver HTTP/1.1 hdr Host switchyard
  http-check expect status 200
  # a check may take a while on a busy machine (the default timeout is the interval): a slow
  # answer is not a dead replica; a refused connection fails at once
  timeout check 2s
  default-server inter ${o.checkIntervalMs}ms fastinter ${o.checkIntervalMs}ms downinter ${o.checkIntervalMs}ms fall 2 rise 2 on-marked-down shutdown-sessions
  http-response set-header x-served-by %[srv_name]
${o.backends.map((b) => `  server ${b.name} ${b.address} check`).join('\n')}

listen stats
  bind 127.0.0.1:${o.statsPort}
  stats enable
  stats uri /stats
`;
}

export interface RunningHaproxy {
  readonly child: ChildProcess;
  readonly url: string;
  /** the state of each server ("UP", "DOWN", …) by name, from the stats CSV */
  servers(): Promise<Map<string, string>>;
  /** requests retried and redispatched away from each server (the stats CSV's wretr, wredis) */
  retries(): Promise<Map<string, { retried: number; redispatched: number }>>;
  stop(): Promise<void>;
}

/** Writes the config, checks it (`haproxy -c`), starts haproxy in the foreground and waits until every backend is UP. */
export async function startHaproxy(o: HaproxyOptions, configPath: string, logPath: string, timeoutMs = 15_000): Promise<RunningHaproxy> {
  writeFileSync(configPath, haproxyConfig(o));
  const check = spawn('haproxy', ['-c', '-q', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let checkOut = '';
  check.stdout!.on('data', (d: Buffer) => (checkOut += d.toString()));
  check.stderr!.on('data', (d: Buffer) => (checkOut += d.toString()));
  const checked = await new Promise<number | null>((resolve, reject) => {
    check.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new Error('haproxy not found on PATH: install it (apt-get install haproxy) to run the cluster test') : e),
    );
    check.once('exit', (code) => resolve(code));
  });
  if (checked !== 0) throw new Error(`haproxy -c rejected ${configPath}: ${checkOut.trim()}`);
  const child = spawn('haproxy', ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(logPath);
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const rows = async (): Promise<string[][]> => {
    const csv = await (await fetch(`http://127.0.0.1:${o.statsPort}/stats;csv`)).text();
    return csv
      .split('\n')
      .map((line) => line.split(','))
      .filter((f) => f[0] === 'gateways' && f[1] !== 'BACKEND' && f[1] !== 'FRONTEND');
  };
  // columns of HAProxy's stats CSV: 1 svname, 15 wretr, 16 wredis, 17 status
  const servers = async (): Promise<Map<string, string>> => new Map((await rows()).map((f) => [f[1], f[17]]));
  const retries = async (): Promise<Map<string, { retried: number; redispatched: number }>> =>
    new Map((await rows()).map((f) => [f[1], { retried: Number(f[15]), redispatched: Number(f[16]) }]));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  };
  const until = Date.now() + timeoutMs;
  for (;;) {
    const states = await servers().catch(() => new Map<string, string>());
    if (o.backends.every((b) => states.get(b.name) === 'UP')) break;
    if (child.exitCode !== null || Date.now() > until) {
      await stop();
      throw new Error(`haproxy did not see every gateway UP within ${timeoutMs} ms: ${JSON.stringify([...states])}; its log: ${logPath}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: `http://127.0.0.1:${o.port}`, servers, retries, stop };
}
