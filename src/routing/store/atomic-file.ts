/**
 * Atomic file replacement for the file route store: the new content goes to a temp file in
 * the same folder, is fsynced, renamed over the target, and the folder is fsynced so that the
 * rename itself is durable. A process killed at any point leaves either the old file or the
 * new one (plus, at worst, a stray temp file, which `removeStrayTemps` clears at startup).
 */
import { open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

const TEMP_SUFFIX = '.tmp';
let seq = 0;

/** Replaces `file` with `data` atomically and durably (see the module comment). */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${seq++}${TEMP_SUFFIX}`);
  const fh = await open(temp, 'w', 0o600);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  await syncDir(dir);
}

/** fsyncs a folder (its entries: a rename into it is on disk once this resolves). */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** Deletes the temp files a killed writer left in `dir` (`.<name>.<pid>.<n>.tmp`); their names. */
export async function removeStrayTemps(dir: string): Promise<string[]> {
  const stray = (await readdir(dir)).filter((f) => f.startsWith('.') && f.endsWith(TEMP_SUFFIX));
  await Promise.all(stray.map((f) => rm(path.join(dir, f), { force: true })));
  return stray;
}
