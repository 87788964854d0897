/** "did you mean" hints for unknown config keys. */
import { Kind, type TSchema } from '@sinclair/typebox';

/** `maxBatchSize`, `max-batch-size` and `max_batch_size` compare equal. */
function squash(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '');
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j] + 1, d[i * cols + j - 1] + 1, d[(i - 1) * cols + j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2] + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1];
}

/** The known key closest to `key`, if it is close enough to be a likely typo. */
export function closestKey(key: string, known: readonly string[]): string | null {
  const wanted = squash(key);
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const other = squash(candidate);
    const distance = other.startsWith(wanted) && wanted.length >= 4 ? 1 : editDistance(wanted, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : null;
}

/** Dotted paths of every key the schema knows, looking inside unions of objects. */
function knownPaths(schema: TSchema, prefix: string, out: string[]): string[] {
  if (schema[Kind] === 'Union') {
    for (const variant of schema.anyOf as TSchema[]) knownPaths(variant, prefix, out);
  } else if (schema[Kind] === 'Object') {
    for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      out.push(path);
      knownPaths(child, path, out);
    }
  }
  return out;
}

/**
 * A hint for an unknown `key` found under `parentPath`: a close sibling
 * (`(did you mean "port"?)`), else the same key elsewhere in the schema
 * (`(did you mean dynamic_batching.max_queue_delay_us?)`), else ''.
 */
export function suggestKey(key: string, siblings: readonly string[], parentPath: string, root: TSchema): string {
  const sibling = closestKey(key, siblings);
  if (sibling !== null) return `(did you mean "${sibling}"?)`;
  const wanted = squash(key);
  const elsewhere = knownPaths(root, '', []).filter((path) => {
    const cut = path.lastIndexOf('.');
    const parent = cut < 0 ? '' : path.slice(0, cut);
    return parent !== parentPath && squash(path.slice(cut + 1)) === wanted;
  });
  if (elsewhere.length === 0 || elsewhere.length > 3) return '';
  return `(did you mean ${elsewhere.join(' or ')}?)`;
}
