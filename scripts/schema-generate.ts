/**
 * Writes the JSON Schema files (schema/*.schema.json) from the TypeBox schemas:
 * `npm run schema:generate`. Imported, it only exports writeSchemaFiles (test/config checks
 * the committed files are current).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaDocuments } from '../src/config/json-schema.js';

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

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of await writeSchemaFiles(path.join(path.dirname(fileURLToPath(import.meta.url)), '..'))) process.stdout.write(`wrote ${file}\n`);
}
