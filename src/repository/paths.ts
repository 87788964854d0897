import { realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { GatewayError } from '../core/errors.js';

/** Model names: letters, digits, '_', '-', '.'; not starting with '.' (so never '.' or '..'). */
const MODEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Versions are positive integers, as in Triton's repository layout. */
const VERSION = /^[1-9][0-9]{0,17}$/;

export function isValidModelName(name: string): boolean {
  return MODEL_NAME.test(name);
}

export function isValidVersion(v: string): boolean {
  return VERSION.test(v);
}

export function checkModelName(name: string): void {
  if (!isValidModelName(name)) {
    throw new GatewayError(
      'SY_ERR_BAD_REQUEST',
      `invalid model name ${JSON.stringify(name.slice(0, 130))}: use letters, digits, "_", "-" and "." (not first), at most 128 characters`,
    );
  }
}

export function checkVersion(v: string): void {
  if (!isValidVersion(v)) {
    throw new GatewayError('SY_ERR_BAD_REQUEST', `invalid model version ${JSON.stringify(v.slice(0, 30))}: versions are positive integers`);
  }
}

/**
 * `root/…parts` after resolving symlinks, or null when it does not exist or resolves outside
 * the repository root (a symlink leading out is treated as absent, never followed).
 */
export function confined(root: string, ...parts: string[]): string | null {
  let real: string;
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
    real = realpathSync(join(root, ...parts));
  } catch {
    return null;
  }
  if (real !== realRoot && !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) return null;
  return real;
}

/**
 * The folder a model version's files (model.onnx, reference.json) live in:
 * `<root>/<model>/<version>`, or with a single-model root (config model_name)
 * `<root>/<version>` when that has a model.onnx, else the root itself (its own model.onnx).
 */
export function versionFolder(root: string, singleModel: string | null, model: string, version: string): string {
  if (singleModel === null) return join(root, model, version);
  return isFile(join(root, version, 'model.onnx')) ? join(root, version) : root;
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
