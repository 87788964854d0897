/**
 * Configuration errors. One ConfigError carries every problem found in one load (one
 * issue per line of its message), so an operator fixes a file in one pass instead of one
 * restart per typo. Each line names where the value came from (a file's display name or
 * an environment variable), the dotted path of the key, the value found and what was
 * expected:
 *
 *   config error in examples/switchyard.yaml at http.port: got "abc", expected an integer 0..65535
 *
 * Config errors are operator-facing (startup, model load); sources are display names
 * chosen by the caller, never absolute paths.
 */

/** What went wrong at one key. */
export type ConfigIssueKind =
  /** the value has the wrong type or is out of range */
  | 'invalid'
  /** a key the schema does not know */
  | 'unknown-key'
  /** the file cannot be read or is not YAML: the line is `detail` alone */
  | 'document';

export interface ConfigIssue {
  readonly kind: ConfigIssueKind;
  /** where the value came from: a file's display name or `environment variable NAME` */
  readonly source: string;
  /** dotted path of the key (`http.port`, `dynamic_batching.preferred_batch_sizes[1]`); '' = the whole document */
  readonly path: string;
  /** the offending value (for 'unknown-key': the value under the unknown key) */
  readonly value: unknown;
  /** what was expected, as a phrase: `an integer 0..65535` */
  readonly expected: string;
  /** extra words appended to the line (a "did you mean" hint, a parser's reason), or '' */
  readonly detail: string;
  /** when true the value is never printed (secrets) */
  readonly secret: boolean;
}

export function configIssue(
  fields: Pick<ConfigIssue, 'source' | 'path' | 'value' | 'expected'> & Partial<Pick<ConfigIssue, 'kind' | 'detail' | 'secret'>>,
): ConfigIssue {
  return Object.freeze({
    kind: fields.kind ?? 'invalid',
    source: fields.source,
    path: fields.path,
    value: fields.value,
    expected: fields.expected,
    detail: fields.detail ?? '',
    secret: fields.secret ?? false,
  });
}

export class ConfigError extends Error {
  /** every problem found, in document order; never empty */
  readonly issues: readonly ConfigIssue[];
  /** the first issue's source, path, value and expectation (the common single-error case) */
  readonly source: string;
  readonly path: string;
  readonly value: unknown;
  readonly expected: string;

  constructor(issues: readonly ConfigIssue[]) {
    if (issues.length === 0) throw new TypeError('ConfigError needs at least one issue');
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = Object.freeze([...issues]);
    const first = issues[0];
    this.source = first.source;
    this.path = first.path;
    this.value = first.value;
    this.expected = first.expected;
  }
}

export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError;
}

/** One line of a ConfigError message. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? `config error in ${issue.source}` : `config error in ${issue.source} at ${issue.path}`;
  const tail = issue.detail === '' ? '' : ` ${issue.detail}`;
  switch (issue.kind) {
    case 'document':
      return `${where}: ${issue.detail}`;
    case 'unknown-key':
      return `${where}: unknown key, expected ${issue.expected}${tail}`;
    case 'invalid': {
      const got = issue.secret ? hiddenValue(issue.value) : formatValue(issue.value);
      return `${where}: got ${got}, expected ${issue.expected}${tail}`;
    }
  }
}

const MAX_VALUE_CHARS = 80;
/** `redis://user:secret@host` → `redis://user:***@host` */
const URL_PASSWORD = /(\/\/[^/:@\s]*:)[^@\s]*@/g;

/** A value as it appears in an error message: JSON-like, short, passwords in URLs masked. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  text = text.replace(URL_PASSWORD, '$1***@');
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 3)}...` : text;
}

function hiddenValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string of ${value.length} characters (not shown)`;
  return `a ${Array.isArray(value) ? 'list' : typeof value} (not shown)`;
}

/** `['http', 'port']` → `http.port`; numeric segments of lists → `[2]`; odd keys quoted. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
