/**
 * Triton's logging extension on switchyard's logger: what `GET/POST /v2/logging` and the
 * LogSettings rpc read and change.
 *
 *   log_info, log_warning, log_error   write info / warning / error messages (true/false)
 *   log_verbose_level                  0 = no debug messages; 1 and up = debug messages
 *   log_format                         "default": switchyard's format, one JSON object per
 *                                      line on stderr ("time" in ISO 8601); the only one
 *   log_file                           "": stderr; read-only, as in Triton
 *
 * The starting values follow `log_level` (info: info, warning and error on, verbose 0).
 * Changes apply at once to every message the gateway writes. A null value changes nothing,
 * as in Triton. Changing is an admin operation (the transports check).
 */
import { GatewayError } from '../core/errors.js';
import { isAdjustable, type AdjustableLogger, type LogSwitches, type Logger } from '../core/index.js';

export interface LogSettingsJson {
  log_file: string;
  log_info: boolean;
  log_warning: boolean;
  log_error: boolean;
  log_verbose_level: number;
  log_format: string;
}

/** Requested changes, by key (null = leave unchanged). */
export type LogSettingChanges = ReadonlyMap<string, unknown>;

const UINT32_MAX = 4294967295;

function bad(message: string): GatewayError {
  return new GatewayError('SY_ERR_BAD_REQUEST', message);
}

function show(v: unknown): string {
  return (JSON.stringify(v) ?? String(v)).slice(0, 60);
}

function bool(key: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw bad(`${key} must be true or false, got ${show(v)}`);
  return v;
}

export class LogSettings {
  private readonly log: Logger;
  private readonly adjustable: AdjustableLogger | null;

  constructor(log: Logger) {
    this.log = log;
    this.adjustable = isAdjustable(log) ? log : null;
  }

  get(): LogSettingsJson {
    const sw: LogSwitches = this.adjustable?.switches() ?? {
      info: this.log.isLevelEnabled('info'),
      warning: this.log.isLevelEnabled('warn'),
      error: this.log.isLevelEnabled('error'),
      verbose: this.log.isLevelEnabled('debug') ? 1 : 0,
    };
    return { log_file: '', log_info: sw.info, log_warning: sw.warning, log_error: sw.error, log_verbose_level: sw.verbose, log_format: 'default' };
  }

  /** Applies `changes` (all or nothing); a 400 names the key and what it takes. */
  update(changes: LogSettingChanges): void {
    const next: { -readonly [K in keyof LogSwitches]?: LogSwitches[K] } = {};
    for (const [key, v] of changes) {
      if (v === null || v === undefined) continue;
      switch (key) {
        case 'log_info':
          next.info = bool(key, v);
          break;
        case 'log_warning':
          next.warning = bool(key, v);
          break;
        case 'log_error':
          next.error = bool(key, v);
          break;
        case 'log_verbose_level':
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > UINT32_MAX) throw bad(`log_verbose_level must be an integer from 0 to ${UINT32_MAX}, got ${show(v)}`);
          next.verbose = v;
          break;
        case 'log_format':
          if (v !== 'default') {
            throw bad(`invalid argument for log_format, got: ${show(v)}; switchyard writes one JSON object per line (its "time" in ISO 8601), log_format "default"`);
          }
          break;
        case 'log_file':
          if (v !== '') throw bad('log file location can not be updated through network protocol; switchyard logs to stderr');
          break;
        default:
          throw bad(`unknown log setting ${JSON.stringify(key.slice(0, 64))}; the settings are log_info, log_warning, log_error, log_verbose_level, log_format, log_file`);
      }
    }
    if (Object.keys(next).length === 0) return;
    if (this.adjustable === null) {
      throw bad('this gateway was started with a logger that cannot be changed at run time (an embedding application\'s own); change its log level there');
    }
    this.adjustable.setSwitches(next);
  }
}

/** REST's body `{"log_info": false, "log_verbose_level": 1}` as changes. */
export function logChangesFromJson(body: unknown): LogSettingChanges {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw bad('the logging body must be a JSON object such as {"log_info": true, "log_verbose_level": 1}');
  }
  return new Map(Object.entries(body as Record<string, unknown>));
}
