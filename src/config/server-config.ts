/**
 * The server config: one YAML file plus environment overrides.
 *   parse     YAML text → plain data                                   parseServerConfig
 *   normalise defaults ← file ← environment; paths absolute; threads    normaliseServerConfig
 *   validate  schema + cross-key rules, every issue at once; frozen     validateServerConfig
 * loadServerConfig runs the three on a file.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { Static } from '@sinclair/typebox';
import { applyEnvOverrides } from './env-overrides.js';
import { ConfigError, configIssue, type ConfigIssue } from './errors.js';
import { deepFreeze, isPlainObject, mergeUnder } from './merge.js';
import { featureConfigIssues, normaliseFeatureConfig } from './feature-schema.js';
import { routeConfigIssues } from './route-schema.js';
import { monitoringConfigIssues, normaliseMonitoringConfig } from './monitoring-schema.js';
import { schemaIssues } from './schema-issues.js';
import { normaliseWebhookConfig, webhookConfigIssues } from './webhook-schema.js';
import { ServerConfigSchema, type ServerConfig } from './server-schema.js';
import { parseYaml } from './yaml-source.js';

/** Source name used when there is no config file. */
export const DEFAULTS_SOURCE = 'the built-in defaults';

const checkServerConfig = TypeCompiler.Compile(ServerConfigSchema);
const DEFAULTS = deepFreeze(Value.Create(ServerConfigSchema));

/** YAML text → plain data (not yet checked). */
export function parseServerConfig(text: string, sourceName: string): unknown {
  return parseYaml(text, sourceName);
}

export interface NormaliseOptions {
  /** directory that relative paths in environment variables are read from (default: process.cwd()) */
  readonly cwd?: string;
  /** what `threads: 0` becomes (default: os.availableParallelism()) */
  readonly availableParallelism?: number;
}

export interface NormalisedServerConfig {
  /** the complete config, not yet validated */
  readonly value: unknown;
  /** dotted key → where its value came from, for keys set by an environment variable */
  readonly origins: ReadonlyMap<string, string>;
}

/**
 * Defaults ← the file's data ← environment overrides. `model_repository` and `state_dir` from
 * the file (or their defaults) are resolved against `baseDir` (the config file's folder), from the environment against the
 * cwd; `threads: 0` becomes the number of available cores. Values of the wrong type are
 * left as they are for validation to report.
 */
export function normaliseServerConfig(
  raw: unknown,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
  options: NormaliseOptions = {},
): NormalisedServerConfig {
  const origins = new Map<string, string>();
  const value = mergeUnder(ServerConfigSchema, DEFAULTS, raw);
  if (isPlainObject(value)) {
    if (typeof value.model_repository === 'string' && value.model_repository !== '') {
      value.model_repository = path.resolve(baseDir, value.model_repository);
    }
    if (typeof value.state_dir === 'string' && value.state_dir !== '') value.state_dir = path.resolve(baseDir, value.state_dir);
    normaliseMonitoringConfig(value, baseDir);
    normaliseFeatureConfig(value, baseDir);
    normaliseWebhookConfig(value);
    applyEnvOverrides(value, env, options.cwd ?? process.cwd(), origins);
    if (value.threads === 0) value.threads = options.availableParallelism ?? os.availableParallelism();
  }
  return { value, origins };
}

/**
 * A complete server config checked against the schema and the rules between keys; throws
 * one ConfigError listing every problem (keys set by environment variables are reported
 * under the variable's name). Returns a deep-frozen copy.
 */
export function validateServerConfig(
  value: unknown,
  sourceName: string,
  origins: ReadonlyMap<string, string> = new Map(),
): ServerConfig {
  const sourceOf = (key: string) => origins.get(key) ?? sourceName;
  const issues = [...schemaIssues(checkServerConfig, value, sourceOf), ...crossKeyIssues(value, sourceOf), ...monitoringConfigIssues(value, sourceOf), ...featureConfigIssues(value, sourceOf), ...routeConfigIssues(value, sourceOf), ...webhookConfigIssues(value, sourceOf)];
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(structuredClone(value) as Static<typeof ServerConfigSchema>);
}

function crossKeyIssues(value: unknown, sourceOf: (key: string) => string): ConfigIssue[] {
  const issues = [...portIssues(value, sourceOf)];
  if (isPlainObject(value) && value.model_control_mode !== 'explicit' && Array.isArray(value.startup_models) && value.startup_models.length > 0) {
    issues.push(
      configIssue({
        source: sourceOf('startup_models'),
        path: 'startup_models',
        value: value.startup_models,
        expected: 'an empty list unless model_control_mode is explicit (mode none loads every model at startup)',
      }),
    );
  }
  return issues;
}

function portIssues(value: unknown, sourceOf: (key: string) => string): ConfigIssue[] {
  if (!isPlainObject(value) || !isPlainObject(value.http) || !isPlainObject(value.grpc)) return [];
  const { port: httpPort } = value.http;
  const { port: grpcPort, enabled } = value.grpc;
  if (enabled !== false && Number.isInteger(httpPort) && httpPort !== 0 && grpcPort === httpPort) {
    return [
      configIssue({
        source: sourceOf('grpc.port'),
        path: 'grpc.port',
        value: grpcPort,
        expected: `a port other than http.port (${httpPort as number}), 0, or grpc.enabled: false`,
      }),
    ];
  }
  return [];
}

/**
 * Reads, normalises and validates the server config. `file` null → the built-in defaults
 * plus environment overrides. A relative `file` is read from the cwd; errors name it as
 * given (relative to the cwd when it lies inside it).
 */
export function loadServerConfig(file: string | null, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const cwd = process.cwd();
  if (file === null) {
    const normalised = normaliseServerConfig({}, cwd, env, { cwd });
    return validateServerConfig(normalised.value, DEFAULTS_SOURCE, normalised.origins);
  }
  const absolute = path.resolve(cwd, file);
  const sourceName = displayName(file, absolute, cwd);
  const text = readConfigFile(absolute, sourceName);
  const normalised = normaliseServerConfig(parseServerConfig(text, sourceName), path.dirname(absolute), env, { cwd });
  return validateServerConfig(normalised.value, sourceName, normalised.origins);
}

function displayName(given: string, absolute: string, cwd: string): string {
  const relative = path.relative(cwd, absolute);
  if (relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative)) return relative;
  return given;
}

function readConfigFile(absolute: string, sourceName: string): string {
  try {
    return readFileSync(absolute, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'the file does not exist'
        : code === 'EISDIR'
          ? 'this is a directory, expected a YAML file'
          : `the file cannot be read (${code ?? 'unknown error'})`;
    throw new ConfigError([configIssue({ kind: 'document', source: sourceName, path: '', value: undefined, expected: 'a readable YAML file', detail: reason })]);
  }
}
