/**
 * Environment variables that override keys of the server config. They are applied after
 * the file and before validation, so a bad value is reported like a bad key, naming the
 * variable: `config error in environment variable SWITCHYARD_HTTP_PORT at http.port: ...`.
 * A variable that is unset or empty (after trimming) overrides nothing. Values are trimmed
 * (secrets mounted from files often end in a newline).
 */
import path from 'node:path';
import { setPath } from './merge.js';

export type EnvValueKind =
  /** decimal digits become a number; anything else stays a string, which validation rejects */
  | 'integer'
  | 'string'
  /** a path; a relative one is resolved against the current directory */
  | 'path'
  /** lower-cased (`INFO` → `info`) */
  | 'lowercase'
  /** comma-separated, each item trimmed (`a, b` → ['a', 'b']) */
  | 'list';

export interface EnvOverride {
  readonly variable: string;
  /** the config key it sets */
  readonly key: readonly string[];
  readonly kind: EnvValueKind;
}

export const ENV_OVERRIDES: readonly EnvOverride[] = Object.freeze([
  { variable: 'SWITCHYARD_HTTP_PORT', key: ['http', 'port'], kind: 'integer' },
  { variable: 'SWITCHYARD_GRPC_PORT', key: ['grpc', 'port'], kind: 'integer' },
  { variable: 'SWITCHYARD_MODEL_REPOSITORY', key: ['model_repository'], kind: 'path' },
  { variable: 'SWITCHYARD_MODEL_NAME', key: ['model_name'], kind: 'string' },
  { variable: 'SWITCHYARD_REDIS_URL', key: ['redis', 'url'], kind: 'string' },
  { variable: 'SWITCHYARD_STATE_DIR', key: ['state_dir'], kind: 'path' },
  { variable: 'SWITCHYARD_ADMIN_TOKEN', key: ['admin_token'], kind: 'string' },
  { variable: 'SWITCHYARD_LOG_LEVEL', key: ['log_level'], kind: 'lowercase' },
  { variable: 'SWITCHYARD_MODEL_CONTROL_MODE', key: ['model_control_mode'], kind: 'lowercase' },
  { variable: 'SWITCHYARD_STARTUP_MODELS', key: ['startup_models'], kind: 'list' },
] as const);

function convert(raw: string, kind: EnvValueKind, cwd: string): unknown {
  switch (kind) {
    case 'integer':
      return /^[+-]?\d+$/.test(raw) ? Number(raw) : raw;
    case 'path':
      return path.resolve(cwd, raw);
    case 'lowercase':
      return raw.toLowerCase();
    case 'string':
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
  }
}

/**
 * Writes each set variable into `config` (a merged server config, changed in place) and
 * records in `origins` (dotted key → source name) where the value came from.
 */
export function applyEnvOverrides(
  config: unknown,
  env: NodeJS.ProcessEnv,
  cwd: string,
  origins: Map<string, string>,
): void {
  for (const override of ENV_OVERRIDES) {
    const raw = env[override.variable]?.trim();
    if (raw === undefined || raw === '') continue;
    if (setPath(config, override.key, convert(raw, override.kind, cwd))) {
      origins.set(override.key.join('.'), `environment variable ${override.variable}`);
    }
  }
}
