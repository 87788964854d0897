/**
 * Shared helpers of the JSON codecs: bytes → parsed JSON (with the malformed-JSON error),
 * type guards for parsed values, and short descriptions of bad values for error messages.
 */
import { GatewayError } from '../core/index.js';

// TextDecoder and Buffer#toString('utf8') measured the same on a 1.9 MB body (≈1.0 ms each).
const UTF8 = new TextDecoder();

/**
 * Parses UTF-8 JSON bytes as Triton's parser reads them: RapidJSON with kParseNanAndInfFlag,
 * which also takes the bare tokens NaN, Inf, Infinity (and with a minus sign), as Python's
 * json.dumps writes non-finite floats. JSON.parse does not, so only when it fails and the
 * text has such a token, the tokens outside strings are rewritten as the strings "NaN",
 * "Infinity", "-Infinity" (which the element codecs take) and the text parsed again: a body
 * without them costs nothing extra. Throws SY_ERR_MALFORMED_JSON with JSON.parse's message.
 */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  const text = UTF8.decode(bytes);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    if (HAS_NON_FINITE.test(text)) {
      const rewritten = quoteTokens(text, false);
      if (rewritten !== null) {
        try {
          return JSON.parse(rewritten) as unknown;
        } catch {
          // the original message points into the text the client sent
        }
      }
    }
    throw malformed(e);
  }
}

/**
 * The same bytes parsed again with every integer token of 16 or more digits (those JSON.parse
 * may round: 2^53 has 16) turned into its decimal string, so INT64/UINT64 data keeps every
 * digit (see elements.ts). Only for requests whose integer data JSON.parse could not hold.
 */
export function parseJsonExactIntegers(bytes: Uint8Array): unknown {
  const text = UTF8.decode(bytes);
  try {
    return JSON.parse(quoteTokens(text, true) ?? text) as unknown;
  } catch (e) {
    throw malformed(e);
  }
}

/** How deep the control bodies (feedback, repository, routes, settings) may nest: theirs are 3–5. */
export const MAX_CONTROL_JSON_DEPTH = 32;

/**
 * JSON.parse of a control-plane body (not infer: see parseJsonBytes) that first refuses
 * nesting deeper than `maxDepth`: V8 parses any depth, but what later walks the value
 * (JSON.stringify of an echoed field, a validator) recurses, and a 20 KB body of nested
 * arrays overflowed the stack where nothing caught it. `what` names the body in errors.
 */
export function parseControlJson(bytes: Uint8Array, what: string, maxDepth = MAX_CONTROL_JSON_DEPTH): unknown {
  const depth = nestingDepthOver(bytes, maxDepth);
  if (depth !== null) {
    throw new GatewayError('SY_ERR_BAD_REQUEST', `the ${what} body nests deeper than ${maxDepth} levels (at byte ${depth}); send a flatter document`);
  }
  try {
    return JSON.parse(UTF8.decode(bytes)) as unknown;
  } catch (e) {
    throw new GatewayError('SY_ERR_MALFORMED_JSON', `malformed JSON in the ${what} body: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The offset where `[`/`{` outside strings first nest deeper than `max`, or null. */
export function nestingDepthOver(b: Uint8Array, max: number): number | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) return i;
    } else if (c === 93 || c === 125) depth--;
  }
  return null;
}

/** Whether parsed JSON `v` (itself level 1) holds arrays/objects nested deeper than `max`; iterative. */
export function nestsDeeperThan(v: unknown, max: number): boolean {
  const stack: unknown[] = [v];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const x = stack.pop();
    const d = depths.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (d > max) return true;
    const children = Array.isArray(x) ? x : Object.values(x);
    for (let i = 0; i < children.length; i++) {
      const c: unknown = children[i];
      if (typeof c === 'object' && c !== null) {
        stack.push(c);
        depths.push(d + 1);
      }
    }
  }
  return false;
}

function malformed(e: unknown): GatewayError {
  const why = e instanceof Error ? e.message : String(e);
  return new GatewayError('SY_ERR_MALFORMED_JSON', `malformed JSON: ${why}`);
}

const HAS_NON_FINITE = /NaN|Inf/;

const QUOTE = 34;
const BACKSLASH = 92;
const MINUS = 45;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isWordChar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
/** digits, '.', 'e', 'E', '+', '-': the rest of a number token */
const isNumberChar = (c: number): boolean => isDigit(c) || c === 46 || c === 101 || c === 69 || c === 43 || c === MINUS;

/**
 * `text` with, outside JSON strings (never changed), the bare NaN / Inf / Infinity tokens
 * (with an optional minus) written as the strings "NaN", "Infinity", "-Infinity", and with
 * `bigIntegers` every integer token of 16+ digits as its decimal string; null when nothing
 * was changed. A hand-written scanner: on 100k INT64 elements beyond 2^53 it takes 6 ms
 * where String#replace with the equivalent regular expression took 31 ms
 * (bench/micro/json-numbers.ts measures the whole decode).
 */
function quoteTokens(text: string, bigIntegers: boolean): string | null {
  const n = text.length;
  let out = '';
  let last = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // to the closing quote, one not preceded by an odd number of backslashes
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) return last === 0 ? null : out + text.slice(last); // unterminated: JSON.parse reports it
        let b = q - 1;
        while (text.charCodeAt(b) === BACKSLASH) b--;
        if ((q - 1 - b) % 2 === 0) {
          i = q + 1;
          break;
        }
        from = q + 1;
      }
      continue;
    }
    const sign = c === MINUS ? 1 : 0;
    const d = sign === 1 ? text.charCodeAt(i + 1) : c;
    if (d === 78 /* N */ || d === 73 /* I */) {
      const at = i + sign;
      const word = text.startsWith('NaN', at) ? 3 : text.startsWith('Infinity', at) ? 8 : text.startsWith('Inf', at) ? 3 : 0;
      const end = at + word;
      if (word > 0 && !(end < n && isWordChar(text.charCodeAt(end)))) {
        out += text.slice(last, i) + (d === 78 ? '"NaN"' : sign === 1 ? '"-Infinity"' : '"Infinity"');
        last = end;
        i = end;
        continue;
      }
    }
    if (isDigit(d)) {
      const start = i;
      i += sign;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      const next = i < n ? text.charCodeAt(i) : 0;
      if (bigIntegers && i - start - sign >= 16 && next !== 46 && next !== 101 && next !== 69) {
        out += text.slice(last, start) + '"' + text.slice(start, i) + '"';
        last = i;
      }
      while (i < n && isNumberChar(text.charCodeAt(i))) i++;
      continue;
    }
    if (isWordChar(c)) {
      // true, false, null (or a stray word): never the start of a token inside it
      while (i < n && isWordChar(text.charCodeAt(i))) i++;
      continue;
    }
    i++;
  }
  return last === 0 ? null : out + text.slice(last);
}

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MAX_SHOWN = 40;

/** A value as it would appear in the JSON the client sent, cut short for error messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  let s: string;
  try {
    s = typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? String(v));
  } catch {
    // too deep to stringify (String() of it would recurse as well)
    s = jsonTypeOf(v);
  }
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s;
}

/** A JSON type name for "got …" parts of messages. */
export function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${describeValue(v)}`;
}

export function invalid(message: string): GatewayError {
  return new GatewayError('SY_ERR_INVALID_INPUT', message);
}
