/**
 * Byte-level mutations in the manner of libFuzzer's MutationDispatcher: bit flips, random and
 * "interesting" bytes, inserts and erases, repeats of a chunk (what turns a small request into
 * an amplifying one: many inputs, many dims, many elements), splices from another corpus entry,
 * dictionary tokens, and ASCII numbers replaced by edge values. Deterministic for a seed.
 */

/** xorshift128+: fast, seedable, good enough to pick mutations. */
export class Rng {
  private a: number;
  private b: number;

  constructor(seed: number) {
    this.a = seed | 0 || 0x9e3779b9;
    this.b = (seed * 2654435761) | 0 || 0x7f4a7c15;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    let s1 = this.a;
    const s0 = this.b;
    this.a = s0;
    s1 ^= s1 << 23;
    s1 ^= s1 >>> 17;
    s1 ^= s0;
    s1 ^= s0 >>> 26;
    this.b = s1;
    return (this.a + this.b) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x22, 0x5b, 0x5d, 0x7b, 0x7d, 0x2c, 0x3a, 0x5c, 0x2d, 0x30, 0x39, 0x65, 0x2e];
const NUMBERS = ['0', '-1', '1', '-0', '65535', '2147483648', '4294967296', '9007199254740993', '18446744073709551615', '1e15', '1e308', '1e-7', '0.5', '100000000', 'NaN', 'Infinity'];

/** A copy (Buffer#slice would be a view, and mutating it would change the corpus entry). */
function copy(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export class Mutator {
  constructor(
    private readonly rng: Rng,
    private readonly dictionary: readonly Uint8Array[],
    /** inputs never grow past this many bytes */
    readonly maxLength: number,
  ) {}

  /** A new input made from `base` by 1-5 stacked mutations; `other` is a splice donor. */
  mutate(base: Uint8Array, other: Uint8Array): Uint8Array {
    let out = base;
    const rounds = 1 + this.rng.below(5);
    for (let i = 0; i < rounds; i++) out = this.once(out, other);
    return out.byteLength > this.maxLength ? out.subarray(0, this.maxLength) : out;
  }

  private once(b: Uint8Array, other: Uint8Array): Uint8Array {
    const r = this.rng;
    const n = b.byteLength;
    switch (r.below(12)) {
      case 0: {
        if (n === 0) return this.insert(b, 0, Uint8Array.of(r.below(256)));
        const c = copy(b);
        c[r.below(n)] ^= 1 << r.below(8);
        return c;
      }
      case 1: {
        if (n === 0) return b;
        const c = copy(b);
        c[r.below(n)] = r.below(3) === 0 ? r.below(256) : r.pick(INTERESTING_BYTES);
        return c;
      }
      case 2: {
        const len = 1 + r.below(8);
        const bytes = new Uint8Array(len);
        for (let i = 0; i < len; i++) bytes[i] = r.below(256);
        return this.insert(b, r.below(n + 1), bytes);
      }
      case 3: {
        if (n === 0) return b;
        const at = r.below(n);
        const len = 1 + r.below(Math.min(n - at, 1 + r.below(64)));
        const c = new Uint8Array(n - len);
        c.set(b.subarray(0, at));
        c.set(b.subarray(at + len), at);
        return c;
      }
      case 4: {
        // repeat a chunk: amplifiers are one small part written many times
        if (n === 0) return b;
        const at = r.below(n);
        const len = 1 + r.below(Math.min(n - at, 48));
        const times = 1 + r.below(r.below(4) === 0 ? 2000 : 16);
        const chunk = b.subarray(at, at + len);
        const rep = new Uint8Array(Math.min(len * times, this.maxLength));
        for (let o = 0; o < rep.byteLength; o += len) rep.set(chunk.subarray(0, Math.min(len, rep.byteLength - o)), o);
        return this.insert(b, at, rep);
      }
      case 5: {
        // splice: part of another corpus entry
        if (other.byteLength === 0) return b;
        const from = r.below(other.byteLength);
        const len = 1 + r.below(Math.min(other.byteLength - from, 256));
        return this.insert(b, r.below(n + 1), other.subarray(from, from + len));
      }
      case 6:
      case 7: {
        if (this.dictionary.length === 0) return b;
        const tok = r.pick(this.dictionary);
        if (n >= tok.byteLength && r.below(2) === 0) {
          // overwrite in place
          const c = copy(b);
          c.set(tok, r.below(n - tok.byteLength + 1));
          return c;
        }
        return this.insert(b, r.below(n + 1), tok);
      }
      case 8: {
        // an ASCII number becomes an edge value
        const start = this.findDigit(b);
        if (start < 0) return b;
        let end = start;
        while (end < n && isDigit(b[end])) end++;
        const num = new TextEncoder().encode(r.pick(NUMBERS));
        const c = new Uint8Array(n - (end - start) + num.byteLength);
        c.set(b.subarray(0, start));
        c.set(num, start);
        c.set(b.subarray(end), start + num.byteLength);
        return c;
      }
      case 10: {
        // libFuzzer's ChangeASCIIInteger: an ASCII number plus or minus a little, doubled or halved
        const start = this.findDigit(b);
        if (start < 0) return b;
        let end = start;
        while (end < n && isDigit(b[end])) end++;
        const v = Number(new TextDecoder().decode(b.subarray(start, end)));
        const op = r.below(4);
        const next = op === 0 ? v + 1 + r.below(8) : op === 1 ? v - 1 - r.below(8) : op === 2 ? v * 2 : Math.floor(v / 2);
        const num = new TextEncoder().encode(String(next));
        const c = new Uint8Array(n - (end - start) + num.byteLength);
        c.set(b.subarray(0, start));
        c.set(num, start);
        c.set(b.subarray(end), start + num.byteLength);
        return c;
      }
      case 11: {
        // libFuzzer's ChangeBinaryInteger: a little-endian 1/2/4-byte integer plus or minus a little
        const width = r.pick([1, 2, 4]);
        if (n < width) return b;
        const at = r.below(n - width + 1);
        const c = copy(b);
        const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
        const delta = (r.below(2) === 0 ? 1 : -1) * (1 + r.below(16));
        if (width === 1) c[at] = (c[at] + delta) & 0xff;
        else if (width === 2) dv.setUint16(at, (dv.getUint16(at, true) + delta) & 0xffff, true);
        else dv.setUint32(at, (dv.getUint32(at, true) + delta) >>> 0, true);
        return c;
      }
      default: {
        // truncate or cross over: the head of one input and the tail of the other
        if (r.below(2) === 0) return b.subarray(0, r.below(n + 1));
        const cut = r.below(n + 1);
        const cut2 = r.below(other.byteLength + 1);
        const c = new Uint8Array(cut + other.byteLength - cut2);
        c.set(b.subarray(0, cut));
        c.set(other.subarray(cut2), cut);
        return c;
      }
    }
  }

  private findDigit(b: Uint8Array): number {
    const n = b.byteLength;
    if (n === 0) return -1;
    const from = this.rng.below(n);
    for (let k = 0; k < n; k++) {
      const i = (from + k) % n;
      if (isDigit(b[i])) {
        let s = i;
        while (s > 0 && isDigit(b[s - 1])) s--;
        return s;
      }
    }
    return -1;
  }

  private insert(b: Uint8Array, at: number, bytes: Uint8Array): Uint8Array {
    const c = new Uint8Array(b.byteLength + bytes.byteLength);
    c.set(b.subarray(0, at));
    c.set(bytes, at);
    c.set(b.subarray(at), at + bytes.byteLength);
    return c;
  }
}
