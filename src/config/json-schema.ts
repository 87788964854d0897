/**
 * JSON Schema documents for users' editors, generated from the TypeBox schemas (the one
 * source). They describe what a file may say: every key optional, defaults shown.
 * Editors pick them up with a first line such as
 *   # yaml-language-server: $schema=../schema/switchyard.schema.json
 */
import type { TSchema } from '@sinclair/typebox';
import { PartialModelConfigSchema } from './model-schema.js';
import { ServerConfigFileSchema } from './server-schema.js';

/** Annotations used by the error messages, not JSON Schema keywords: left out of the files. */
const PRIVATE_KEYWORDS = new Set(['expected', 'secret']);

export interface SchemaDocument {
  /** path relative to the repository root */
  readonly file: string;
  /** the file's text (2-space JSON, trailing newline) */
  readonly text: string;
}

/** A TypeBox schema as a plain JSON Schema (draft-07) document. */
export function toJsonSchema(schema: TSchema, title: string, description: string): Record<string, unknown> {
  const { description: _own, ...rest } = strip(JSON.parse(JSON.stringify(schema)) as unknown) as Record<string, unknown>;
  return { $schema: 'http://json-schema.org/draft-07/schema#', title, description, ...rest };
}

function strip(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strip);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!PRIVATE_KEYWORDS.has(key)) out[key] = strip(value);
  }
  return out;
}

/** The schema files the repository commits under schema/. */
export function schemaDocuments(): readonly SchemaDocument[] {
  return [
    {
      file: 'schema/switchyard.schema.json',
      text: render(toJsonSchema(ServerConfigFileSchema, 'switchyard server config', 'The switchyard server config file (switchyard serve --config FILE).')),
    },
    {
      file: 'schema/model-config.schema.json',
      text: render(toJsonSchema(PartialModelConfigSchema, 'switchyard model config', "A model's <repository>/<model>/config.yaml.")),
    },
  ];
}

function render(document: Record<string, unknown>): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
