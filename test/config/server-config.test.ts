import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULTS_SOURCE,
  loadServerConfig,
  normaliseServerConfig,
  parseServerConfig,
  validateServerConfig,
  ServerConfigSchema,
  type ServerConfig,
} from '../../src/config/index.js';
import { configErrorOf } from './helpers.js';

const SOURCE = 'conf/switchyard.yaml';
const BASE = path.resolve('/srv/switchyard/conf');
const CWD = path.resolve('/home/op');

/** parse → normalise → validate, as loadServerConfig does, without touching the disk. */
function fromText(text: string, env: NodeJS.ProcessEnv = {}): ServerConfig {
  const n = normaliseServerConfig(parseServerConfig(text, SOURCE), BASE, env, { cwd: CWD, availableParallelism: 6 });
  return validateServerConfig(n.value, SOURCE, n.origins);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'switchyard-config-'));
afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  await rm(tmp, { recursive: true, force: true });
});

describe('server config defaults', () => {
  it('an empty file gives every default', () => {
    const c = fromText('');
    // every top-level section is present; the sections' own defaults are checked in their tests
    expect(Object.keys(c).sort()).toEqual(Object.keys(ServerConfigSchema.properties).sort());
    expect(c).toMatchObject({
      http: { host: '0.0.0.0', port: 8000, max_body_bytes: 67108864 },
      grpc: {
        host: '0.0.0.0',
        port: 8001,
        enabled: true,
        max_receive_message_bytes: 67108864,
        max_send_message_bytes: 67108864,
        max_stream_inflight: 1024,
      },
      websocket: {
        enabled: true,
        max_payload_bytes: 16777216,
        max_inflight_per_connection: 128,
        max_buffered_bytes: 1048576,
        idle_timeout_s: 120,
        send_pings: true,
        max_violations: 10,
      },
      model_repository: path.join(BASE, 'models'),
      admin_token: null,
      redis: { url: null },
      drain_timeout_s: 30,
      log_level: 'info',
      threads: 6,
      model_defaults: {},
    });
  });

  it('a section left empty (null in YAML) keeps its defaults; the others merge key by key', () => {
    const c = fromText('http:\n  port: 9000\nredis:\n  # url: redis://x\n');
    expect(c.http).toEqual({ host: '0.0.0.0', port: 9000, max_body_bytes: 67108864, max_inflight_body_bytes: 0, reuse_port: false });
    expect(c.redis).toEqual({ url: null });
  });

  it('threads: 0 becomes the available parallelism; other values stay', () => {
    expect(fromText('threads: 0').threads).toBe(6);
    expect(fromText('threads: 3').threads).toBe(3);
    const n = normaliseServerConfig({}, BASE, {});
    expect((n.value as { threads: number }).threads).toBe(os.availableParallelism());
  });

  it('keeps values of every key from the file', () => {
    const c = fromText(`
http: { host: 127.0.0.1, port: 0, max_body_bytes: 1024 }
grpc: { host: "::", port: 0, enabled: false, max_receive_message_bytes: 1000, max_send_message_bytes: 2000, max_stream_inflight: 3 }
websocket: { enabled: false, max_inflight_per_connection: 4, idle_timeout_s: 0 }
model_repository: /abs/models
admin_token: s3cret
redis: { url: "rediss://user:pw@cache:6380/2" }
drain_timeout_s: 2.5
log_level: debug
threads: 2
model_defaults: { max_batch_size: 16, dynamic_batching: { max_queue_delay_us: 500 } }
`);
    expect(c.http).toEqual({ host: '127.0.0.1', port: 0, max_body_bytes: 1024, max_inflight_body_bytes: 0, reuse_port: false });
    expect(c.grpc).toEqual({ host: '::', port: 0, enabled: false, max_receive_message_bytes: 1000, max_send_message_bytes: 2000, max_stream_inflight: 3, max_connections: 1000, idle_timeout_s: 300 });
    expect(c.websocket).toMatchObject({ enabled: false, max_inflight_per_connection: 4, idle_timeout_s: 0 });
    expect(c.model_repository).toBe(path.resolve('/abs/models'));
    expect(c.admin_token).toBe('s3cret');
    expect(c.redis.url).toBe('rediss://user:pw@cache:6380/2');
    expect(c.drain_timeout_s).toBe(2.5);
    expect(c.log_level).toBe('debug');
    expect(c.threads).toBe(2);
    expect(c.model_defaults).toEqual({ max_batch_size: 16, dynamic_batching: { max_queue_delay_us: 500 } });
  });
});

describe('server config paths', () => {
  it('state_dir defaults to ./state beside the config file; a relative one is read from its folder, from the environment from the cwd; null stays null', () => {
    expect(fromText('').state_dir).toBe(path.join(BASE, 'state'));
    expect(fromText('state_dir: ../var/state').state_dir).toBe(path.resolve(BASE, '../var/state'));
    expect(fromText('state_dir: null').state_dir).toBeNull();
    expect(fromText('state_dir: null', { SWITCHYARD_STATE_DIR: 'st' }).state_dir).toBe(path.join(CWD, 'st'));
    expect(configErrorOf(() => fromText('state_dir: 3')).message).toMatch(/at state_dir: got 3, expected a folder path, or null/);
  });

  it('a relative model_repository is read from the config file folder', () => {
    expect(fromText('model_repository: ../models').model_repository).toBe(path.resolve(BASE, '../models'));
    expect(fromText('model_repository: ./m/x').model_repository).toBe(path.join(BASE, 'm', 'x'));
  });

  it('SWITCHYARD_MODEL_REPOSITORY is read from the current directory', () => {
    const c = fromText('model_repository: ./models', { SWITCHYARD_MODEL_REPOSITORY: 'repo' });
    expect(c.model_repository).toBe(path.join(CWD, 'repo'));
  });

  it('loadServerConfig resolves against the file, wherever the process runs', () => {
    const dir = path.join(tmp, 'paths');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'sy.yaml');
    writeFileSync(file, 'model_repository: ./my-models\n');
    expect(loadServerConfig(file, {}).model_repository).toBe(path.join(dir, 'my-models'));
  });
});

describe('server config is frozen', () => {
  it('deeply', () => {
    const c = fromText('model_defaults: { execution_providers: [cuda, cpu] }');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.http)).toBe(true);
    expect(Object.isFrozen(c.model_defaults)).toBe(true);
    expect(Object.isFrozen(c.model_defaults.execution_providers)).toBe(true);
    expect(() => {
      (c.http as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('validation does not freeze or change the object it was given', () => {
    const n = normaliseServerConfig({}, BASE, {}, { availableParallelism: 2 });
    validateServerConfig(n.value, SOURCE);
    expect(Object.isFrozen(n.value)).toBe(false);
  });
});

describe('server config validation: one message per key', () => {
  const cases: [yaml: string, path: string, shown: string, expected: string][] = [
    ['http: { host: "" }', 'http.host', '""', 'a non-empty string'],
    ['http: { port: abc }', 'http.port', '"abc"', 'an integer 0..65535'],
    ['http: { port: 65536 }', 'http.port', '65536', 'an integer 0..65535'],
    ['http: { port: 80.5 }', 'http.port', '80.5', 'an integer 0..65535'],
    ['http: { max_body_bytes: 0 }', 'http.max_body_bytes', '0', 'an integer >= 1'],
    ['http: 8000', 'http', '8000', 'a mapping'],
    ['grpc: { host: 5 }', 'grpc.host', '5', 'a non-empty string'],
    ['grpc: { port: -1 }', 'grpc.port', '-1', 'an integer 0..65535'],
    ['grpc: { enabled: "yes" }', 'grpc.enabled', '"yes"', 'true or false'],
    ['model_repository: ""', 'model_repository', '""', 'a non-empty string'],
    ['model_repository: [a]', 'model_repository', '["a"]', 'a non-empty string'],
    ['redis: { url: "localhost:6379" }', 'redis.url', '"localhost:6379"', 'a redis:// or rediss:// URL, or null'],
    ['drain_timeout_s: -1', 'drain_timeout_s', '-1', 'a number >= 0'],
    ['drain_timeout_s: 30s', 'drain_timeout_s', '"30s"', 'a number >= 0'],
    ['log_level: verbose', 'log_level', '"verbose"', 'one of debug | info | warn | error'],
    ['threads: 1.5', 'threads', '1.5', 'an integer >= 0'],
    ['threads: -2', 'threads', '-2', 'an integer >= 0'],
    ['model_defaults: 5', 'model_defaults', '5', 'a mapping'],
    ['model_defaults: { instance_count: 0 }', 'model_defaults.instance_count', '0', 'an integer >= 1'],
    ['grpc: { port: 8000 }', 'grpc.port', '8000', 'a port other than http.port (8000), 0, or grpc.enabled: false'],
  ];
  it.each(cases)('%s → %s', (yaml, keyPath, shown, expected) => {
    const e = configErrorOf(() => fromText(yaml));
    expect(e.issues).toHaveLength(1);
    expect(e.path).toBe(keyPath);
    expect(e.expected).toBe(expected);
    expect(e.message).toBe(`config error in ${SOURCE} at ${keyPath}: got ${shown}, expected ${expected}`);
  });

  it('names the key and value in the documented format', () => {
    const e = configErrorOf(() => fromText('http:\n  port: abc\n'));
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ConfigError');
    expect(e.value).toBe('abc');
    expect(e.source).toBe(SOURCE);
    expect(e.message).toBe('config error in conf/switchyard.yaml at http.port: got "abc", expected an integer 0..65535');
  });

  it('never prints admin_token, and masks passwords in URLs', () => {
    const token = configErrorOf(() => fromText('admin_token: 123456789'));
    expect(token.message).toBe(`config error in ${SOURCE} at admin_token: got a number (not shown), expected a non-empty string or null`);
    expect(token.message).not.toContain('123456789');
    const empty = configErrorOf(() => fromText('admin_token: ""'));
    expect(empty.message).toContain('got a string of 0 characters (not shown)');
    const url = configErrorOf(() => fromText('redis: { url: "http://me:hunter2@cache" }'));
    expect(url.message).toContain('got "http://me:***@cache"');
    expect(url.message).not.toContain('hunter2');
  });

  it('the same port for gRPC and HTTP is fine when gRPC is off or the port is 0', () => {
    expect(fromText('grpc: { port: 8000, enabled: false }').grpc.port).toBe(8000);
    expect(fromText('http: { port: 0 }\ngrpc: { port: 0 }').grpc.port).toBe(0);
  });

  it('a document that is not a mapping is reported at the top level', () => {
    const e = configErrorOf(() => fromText('- http\n- grpc\n'));
    expect(e.path).toBe('');
    expect(e.message).toBe(`config error in ${SOURCE}: got ["http","grpc"], expected a mapping`);
  });

  it('YAML syntax errors and duplicate keys name the line', () => {
    const e = configErrorOf(() => fromText('http:\n  port: 1\n  port: 2\n'));
    expect(e.message).toMatch(/^config error in conf\/switchyard\.yaml: not valid YAML: Map keys must be unique at line 3, column 3$/);
    const bad = configErrorOf(() => fromText('http: { port: 1\n'));
    expect(bad.message).toContain('not valid YAML');
    expect(bad.message).toMatch(/line \d+, column \d+/);
  });
});

describe('server config: several errors at once', () => {
  it('reports every bad key, one per line, in the order of the file', () => {
    const e = configErrorOf(() =>
      fromText(`
log_level: loud
http:
  port: -1
  hots: localhost
threads: many
grpc: { enabled: 1 }
`),
    );
    expect(e.message.split('\n')).toEqual([
      `config error in ${SOURCE} at log_level: got "loud", expected one of debug | info | warn | error`,
      `config error in ${SOURCE} at http.port: got -1, expected an integer 0..65535`,
      `config error in ${SOURCE} at http.hots: unknown key, expected one of host, port, max_body_bytes, max_inflight_body_bytes, reuse_port (did you mean "host"?)`,
      `config error in ${SOURCE} at threads: got "many", expected an integer >= 0`,
      `config error in ${SOURCE} at grpc.enabled: got 1, expected true or false`,
    ]);
    expect(e.issues.map((i) => i.path)).toEqual(['log_level', 'http.port', 'http.hots', 'threads', 'grpc.enabled']);
    expect(e.path).toBe('log_level');
  });
});

describe('server config: unknown keys', () => {
  it('are errors, with a hint when a known key is close', () => {
    const e = configErrorOf(() => fromText('drain_timeout: 10'));
    expect(e.issues[0].kind).toBe('unknown-key');
    expect(e.message).toBe(
      `config error in ${SOURCE} at drain_timeout: unknown key, expected one of ${Object.keys(ServerConfigSchema.properties).join(', ')} (did you mean "drain_timeout_s"?)`,
    );
  });

  it('catch swapped letters and camelCase', () => {
    expect(configErrorOf(() => fromText('htpt: {}')).message).toContain('(did you mean "http"?)');
    expect(configErrorOf(() => fromText('logLevel: info')).message).toContain('(did you mean "log_level"?)');
    expect(configErrorOf(() => fromText('grpc: { enable: true }')).message).toContain('(did you mean "enabled"?)');
  });

  it('point to the section a misplaced key belongs in', () => {
    expect(configErrorOf(() => fromText('port: 8000')).message).toContain('(did you mean http.port or grpc.port?)');
    expect(configErrorOf(() => fromText('url: redis://x')).message).toContain('(did you mean redis.url?)');
    expect(configErrorOf(() => fromText('instance_count: 2')).message).toContain('(did you mean model_defaults.instance_count?)');
  });

  it('give no hint when nothing is close', () => {
    const e = configErrorOf(() => fromText('zebra: 1'));
    expect(e.message).not.toContain('did you mean');
    expect(e.path).toBe('zebra');
    expect(e.value).toBe(1);
  });

  it('are found inside model_defaults too', () => {
    const e = configErrorOf(() => fromText('model_defaults: { dynamic_batching: { max_queue_delay: 5 } }'));
    expect(e.path).toBe('model_defaults.dynamic_batching.max_queue_delay');
    expect(e.message).toContain('(did you mean "max_queue_delay_us"?)');
  });

  it('a __proto__ key is just an unknown key', () => {
    const e = configErrorOf(() => fromText('http: { __proto__: { port: 1 } }'));
    expect(e.path).toBe('http.__proto__');
    expect(({} as Record<string, unknown>).port).toBeUndefined();
  });
});

describe('server config: environment overrides', () => {
  it('override the file', () => {
    const c = fromText('http: { port: 1000 }\ngrpc: { port: 1001 }\nlog_level: warn\nadmin_token: file-token', {
      SWITCHYARD_HTTP_PORT: '9000',
      SWITCHYARD_GRPC_PORT: '9001',
      SWITCHYARD_REDIS_URL: 'redis://cache:6379',
      SWITCHYARD_ADMIN_TOKEN: ' env-token\n',
      SWITCHYARD_LOG_LEVEL: 'DEBUG',
    });
    expect(c.http.port).toBe(9000);
    expect(c.grpc.port).toBe(9001);
    expect(c.redis.url).toBe('redis://cache:6379');
    expect(c.admin_token).toBe('env-token');
    expect(c.log_level).toBe('debug');
  });

  it('model control from the environment: the mode lower-cased, startup models comma-separated', () => {
    const c = fromText('', { SWITCHYARD_MODEL_CONTROL_MODE: 'EXPLICIT', SWITCHYARD_STARTUP_MODELS: ' simple, tabular ,' });
    expect(c.model_control_mode).toBe('explicit');
    expect(c.startup_models).toEqual(['simple', 'tabular']);
    const e = configErrorOf(() => fromText('', { SWITCHYARD_MODEL_CONTROL_MODE: 'poll' }));
    expect(e.message).toBe('config error in environment variable SWITCHYARD_MODEL_CONTROL_MODE at model_control_mode: got "poll", expected one of none | explicit');
  });

  it('unset or empty variables change nothing', () => {
    const c = fromText('http: { port: 1000 }', { SWITCHYARD_HTTP_PORT: '', SWITCHYARD_ADMIN_TOKEN: '  ' });
    expect(c.http.port).toBe(1000);
    expect(c.admin_token).toBeNull();
  });

  const bad: [variable: string, value: string, key: string, message: string][] = [
    ['SWITCHYARD_HTTP_PORT', 'abc', 'http.port', 'got "abc", expected an integer 0..65535'],
    ['SWITCHYARD_HTTP_PORT', '70000', 'http.port', 'got 70000, expected an integer 0..65535'],
    ['SWITCHYARD_GRPC_PORT', '80.5', 'grpc.port', 'got "80.5", expected an integer 0..65535'],
    ['SWITCHYARD_REDIS_URL', 'cache:6379', 'redis.url', 'got "cache:6379", expected a redis:// or rediss:// URL, or null'],
    ['SWITCHYARD_LOG_LEVEL', 'trace', 'log_level', 'got "trace", expected one of debug | info | warn | error'],
  ];
  it.each(bad)('a bad %s=%s is reported under the variable name', (variable, value, key, message) => {
    const e = configErrorOf(() => fromText('', { [variable]: value }));
    expect(e.source).toBe(`environment variable ${variable}`);
    expect(e.path).toBe(key);
    expect(e.message).toBe(`config error in environment variable ${variable} at ${key}: ${message}`);
  });

  it('errors from the file and the environment come together', () => {
    const e = configErrorOf(() => fromText('threads: -1', { SWITCHYARD_HTTP_PORT: 'x' }));
    expect(e.issues.map((i) => i.source)).toEqual([SOURCE, 'environment variable SWITCHYARD_HTTP_PORT']);
  });

  it('a port clash caused by a variable names the variable', () => {
    const e = configErrorOf(() => fromText('', { SWITCHYARD_GRPC_PORT: '8000' }));
    expect(e.message).toBe(
      'config error in environment variable SWITCHYARD_GRPC_PORT at grpc.port: got 8000, expected a port other than http.port (8000), 0, or grpc.enabled: false',
    );
  });
});

describe('loadServerConfig', () => {
  it('null → defaults plus environment, model_repository in the cwd', () => {
    const c = loadServerConfig(null, { SWITCHYARD_HTTP_PORT: '0' });
    expect(c.http.port).toBe(0);
    expect(c.grpc.port).toBe(8001);
    expect(c.model_repository).toBe(path.resolve('models'));
    const e = configErrorOf(() => loadServerConfig(null, { SWITCHYARD_LOG_LEVEL: 'x' }));
    expect(e.message).toContain('environment variable SWITCHYARD_LOG_LEVEL');
    expect(DEFAULTS_SOURCE).toBe('the built-in defaults');
  });

  it('a missing file is a ConfigError saying so', () => {
    const e = configErrorOf(() => loadServerConfig('no/such/switchyard.yaml', {}));
    expect(e.message).toBe('config error in no/such/switchyard.yaml: the file does not exist');
    expect(e.issues[0].kind).toBe('document');
  });

  it('a directory is not a config file', () => {
    expect(configErrorOf(() => loadServerConfig(tmp, {})).message).toContain('this is a directory, expected a YAML file');
  });

  it('names a file inside the cwd by its relative path, never the absolute one', () => {
    const e = configErrorOf(() => loadServerConfig(path.resolve('test/config/no-such.yaml'), {}));
    expect(e.message).toBe('config error in test/config/no-such.yaml: the file does not exist');
  });

  it('loads examples/switchyard.yaml, the config npm start uses', () => {
    const c = loadServerConfig('examples/switchyard.yaml', {});
    expect(c.http.port).toBe(8000);
    expect(c.grpc.port).toBe(8001);
    expect(c.grpc.enabled).toBe(true);
    expect(c.model_repository).toBe(path.resolve('examples/models'));
    expect(c.admin_token).toBeNull();
    expect(c.redis.url).toBeNull();
    expect(c.log_level).toBe('info');
    expect(c.threads).toBe(os.availableParallelism());
  });

  it('reports a bad file with its name', () => {
    const file = path.join(tmp, 'bad.yaml');
    writeFileSync(file, 'http:\n  port: abc\n');
    const e = configErrorOf(() => loadServerConfig(file, {}));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/at http\.port: got "abc", expected an integer 0\.\.65535$/);
  });
});
