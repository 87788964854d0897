import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { ModelConfig } from '../config/index.js';
import { confined, isFile } from './paths.js';

/** A labels file larger than this is refused (a million long labels; far beyond any classifier). */
const MAX_LABELS_BYTES = 64 << 20;

/**
 * The labels of a model's outputs, from the files its config names
 * (`outputs.<name>.label_filename`, Triton's `label_filename`): relative to the model's
 * folder and inside it, one label per line, line i the label of class i. Throws an Error
 * naming the key when a file is missing, outside the folder, or too large.
 */
export function readLabels(modelDir: string, model: string, config: ModelConfig): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const [output, settings] of Object.entries(config.outputs)) {
    const file = settings.label_filename;
    if (file === undefined) continue;
    const key = `outputs.${output}.label_filename`;
    if (isAbsolute(file)) throw new Error(`${key} is ${JSON.stringify(file)}; give a path relative to the model's folder (${model}/), such as "labels.txt"`);
    const path = confined(modelDir, file);
    if (path === null || !isFile(path)) throw new Error(`${key}: ${JSON.stringify(file)} is not a file in the model's folder (${model}/)`);
    const size = statSync(path).size;
    if (size > MAX_LABELS_BYTES) throw new Error(`${key}: ${JSON.stringify(file)} has ${size} bytes, more than the ${MAX_LABELS_BYTES} a labels file may have`);
    out.set(output, parseLabels(readFileSync(path, 'utf8')));
  }
  return out;
}

/** One label per line (LF or CRLF); a final newline does not start another label. */
export function parseLabels(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
  return lines;
}
