/**
 * What ONNX Runtime's Node binding can carry in a string tensor. BYTES elements travel to it
 * as JS strings: it copies each one into the tensor as a C string (cut at the first NUL), and
 * a byte sequence that is not UTF-8 has no JS string that turns back into the same bytes
 * (decoding replaces it with U+FFFD). Rather than change a tensor's bytes, switchyard refuses
 * the elements it cannot carry, naming the element and the byte. (Outputs come back with
 * their NULs: only the non-UTF-8 case applies to them, see runtime/model-pool.ts.)
 */
import { isUtf8 } from 'node:buffer';

/** U+FFFD REPLACEMENT CHARACTER, as UTF-8 */
const REPLACEMENT = Uint8Array.of(0xef, 0xbf, 0xbd);

/** Why `bytes` cannot reach a string tensor unchanged, or null when it can. */
export function untransportableText(bytes: Uint8Array): string | null {
  const nul = bytes.indexOf(0);
  if (nul !== -1) return `holds a NUL byte at offset ${nul}`;
  if (!isUtf8(bytes)) return `is not valid UTF-8 from byte offset ${firstInvalidUtf8(bytes)}`;
  return null;
}

/** Whether `bytes` (valid UTF-8) holds U+FFFD. */
export function holdsReplacementChar(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(REPLACEMENT) !== -1;
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0; // no overlong forms
      if (c === 0xed) hi = 0x9f; // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f; // nothing above U+10FFFF
    } else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined) return i;
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
    i += n + 1;
  }
  return b.length;
}
