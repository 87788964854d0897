/**
 * Hashing for sticky assignment (weighted rendezvous hashing). A key is hashed once; each
 * target mixes that hash with its own seed, giving a uniform number in (0, 1) per
 * (key, target) pair that is the same on every replica and after every restart.
 */

/** 32-bit hash of a string (MurmurHash3's body over UTF-16 code units, then its finaliser). */
export function hashString(text: string, seed = 0): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    let k = text.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= text.length;
  return fmix(h);
}

/** MurmurHash3's 32-bit finaliser: every input bit affects every output bit. */
function fmix(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A number in the open interval (0, 1), uniform over keys, from a key's hash and a target's
 * two seeds (53 bits: 32 from one mix, 21 from the other).
 */
export function unitHash(keyHash: number, seedHi: number, seedLo: number): number {
  const hi = fmix((keyHash ^ seedHi) >>> 0);
  const lo = fmix((keyHash + seedLo) >>> 0) >>> 11;
  return (hi * 2097152 + lo + 0.5) / 9007199254740992;
}
