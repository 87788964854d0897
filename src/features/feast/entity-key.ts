import type { FeastJoinKeyType } from '../../config/index.js';

/**
 * Feast's Redis key of an entity: the entity key serialized as Feast's version 3 followed
 * by the project name as UTF-8, with no separator:
 *
 *   u32le(number of join keys)
 *   per join key, sorted by name:   u32le(2 = STRING) u32le(byte length) utf8(name)
 *   per value, in the keys' order:  u32le(value type) u32le(byte length) bytes
 *     STRING=2 (UTF-8), BYTES=1 (raw), INT32=3 (int32le), INT64=4 (int64le)
 */

export const FEAST_VALUE_TYPE: Readonly<Record<FeastJoinKeyType, number>> = { BYTES: 1, STRING: 2, INT32: 3, INT64: 4 };
const STRING_TYPE = 2;
const INTEGER_TEXT = /^[+-]?\d+$/;
const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export interface JoinKey {
  readonly name: string;
  readonly type: FeastJoinKeyType;
}

/**
 * The bytes of one join key value as Feast serializes it, or null when `id` is not a value
 * of that type (an INT64 key given "abc"). BYTES keys take the id's UTF-8 bytes.
 */
export function encodeJoinKeyValue(type: FeastJoinKeyType, id: string): Buffer | null {
  if (type === 'STRING' || type === 'BYTES') return Buffer.from(id, 'utf8');
  const text = id.trim();
  if (!INTEGER_TEXT.test(text)) return null;
  const n = BigInt(text);
  if (type === 'INT32') {
    if (n < INT32_MIN || n > INT32_MAX) return null;
    const b = Buffer.allocUnsafe(4);
    b.writeInt32LE(Number(n));
    return b;
  }
  if (n < INT64_MIN || n > INT64_MAX) return null;
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64LE(n);
  return b;
}

/**
 * Orders join key names as Feast does (Python's `sorted` on str): by Unicode code point,
 * which is the order of their UTF-8 bytes. JavaScript's `<` compares UTF-16 code units
 * instead and puts a name with a character above U+FFFF (a surrogate pair, 0xD800…) before
 * one with a character in U+E000…U+FFFF, which would serialize another key than Feast's.
 */
export function compareJoinKeyNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Join keys in Feast's serialization order (a new array). */
export function sortJoinKeys<K extends { readonly name: string }>(keys: readonly K[]): K[] {
  return [...keys].sort((a, b) => compareJoinKeyNames(a.name, b.name));
}

/**
 * A precomputed key layout for one view: the join-key header and the project suffix are
 * built once; per entity only the values are serialized.
 */
export class FeastKeyLayout {
  /** join keys sorted by name, as Feast serializes them */
  readonly keys: readonly JoinKey[];
  private readonly head: Buffer;
  private readonly project: Buffer;

  constructor(keys: readonly JoinKey[], project: string) {
    this.keys = sortJoinKeys(keys);
    const parts: Buffer[] = [u32(this.keys.length)];
    for (const k of this.keys) {
      const name = Buffer.from(k.name, 'utf8');
      parts.push(u32(STRING_TYPE), u32(name.length), name);
    }
    this.head = Buffer.concat(parts);
    this.project = Buffer.from(project, 'utf8');
  }

  /**
   * The Redis key for one value per join key (in the order of `keys`), or null when a value
   * is not of its key's type.
   */
  key(values: readonly string[]): Buffer | null {
    const parts: Buffer[] = [this.head];
    for (let i = 0; i < this.keys.length; i++) {
      const bytes = encodeJoinKeyValue(this.keys[i].type, values[i]);
      if (bytes === null) return null;
      parts.push(u32(FEAST_VALUE_TYPE[this.keys[i].type]), u32(bytes.length), bytes);
    }
    parts.push(this.project);
    return Buffer.concat(parts);
  }
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n);
  return b;
}
