/** Parse step shared by the server and model configs: YAML text → plain data. */
import { parseDocument } from 'yaml';
import { ConfigError, configIssue, type ConfigIssue } from './errors.js';

/** Anchors/aliases beyond this count are refused (the "billion laughs" expansion). */
const MAX_ALIAS_COUNT = 100;

/**
 * The plain data in a YAML text. An empty document is `{}`. Syntax errors (duplicate
 * keys included) throw one ConfigError listing each, with line and column. The shape is
 * not checked here: that is validation's job.
 */
export function parseYaml(text: string, sourceName: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => syntaxIssue(sourceName, firstLine(e.message))));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw new ConfigError([syntaxIssue(sourceName, firstLine(e instanceof Error ? e.message : String(e)))]);
  }
  return data === null || data === undefined ? {} : data;
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/:$/, '');
}

export function syntaxIssue(source: string, reason: string): ConfigIssue {
  return configIssue({ kind: 'document', source, path: '', value: undefined, expected: 'valid YAML', detail: `not valid YAML: ${reason}` });
}
