/**
 * Writes the JSON Schema files (schema/*.schema.json) from the TypeBox schemas. No side
 * effects on import; a script calls writeSchemaFiles(). test/config checks the committed
 * files are current.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { schemaDocuments } from './json-schema.js';

/** Writes every schema file under `rootDir` (the repository root); returns the paths written. */
export async function writeSchemaFiles(rootDir: string = process.cwd()): Promise<string[]> {
  const written: string[] = [];
  for (const doc of schemaDocuments()) {
    const target = path.join(rootDir, doc.file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, doc.text, 'utf8');
    written.push(target);
  }
  return written;
}
