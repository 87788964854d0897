import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaDocuments } from '../../src/config/index.js';
import { writeSchemaFiles } from '../../scripts/schema-generate.js';

describe('JSON Schema files', () => {
  it('schema/*.schema.json are what the TypeBox schemas generate (regenerate with `npm run schema:generate`)', () => {
    const docs = schemaDocuments();
    expect(docs.map((d) => d.file).sort()).toEqual(['schema/model-config.schema.json', 'schema/switchyard.schema.json']);
    for (const doc of docs) {
      expect(readFileSync(doc.file, 'utf8'), `${doc.file} is stale: run npm run schema:generate`).toBe(doc.text);
    }
  });

  it('writeSchemaFiles writes every document under a root', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'switchyard-schema-'));
    try {
      const written = await writeSchemaFiles(root);
      expect(written).toHaveLength(2);
      for (const doc of schemaDocuments()) expect(await readFile(path.join(root, doc.file), 'utf8')).toBe(doc.text);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('are plain draft-07 JSON Schema: no private annotations, defaults documented', () => {
    const server = JSON.parse(schemaDocuments()[0].text) as Record<string, unknown>;
    expect(server.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(server.title).toBe('switchyard server config');
    expect(server.additionalProperties).toBe(false);
    const text = schemaDocuments().map((d) => d.text).join('\n');
    expect(text).not.toMatch(/"expected"|"secret"/);
    const http = (server.properties as Record<string, { anyOf: { properties: Record<string, { default: unknown }> }[] }>).http;
    expect(http.anyOf[0].properties.port.default).toBe(8000);
    // a file may leave out any key
    const model = JSON.parse(schemaDocuments()[1].text) as Record<string, unknown>;
    expect(server.required).toBeUndefined();
    expect(model.required).toBeUndefined();
  });
});
