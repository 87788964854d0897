/**
 * BYTES are bytes: a tensor's bytes reach the model and come back byte-identical, or the
 * request is refused naming the element — ONNX Runtime's Node binding cuts strings at NUL
 * and turns bytes that are not UTF-8 into U+FFFD, and that must never pass silently.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ELEM, attr, encodeModel, node, valueInfo } from '../../examples/lib/onnx-builder.js';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { EXAMPLE_MODELS, postJson, startTestServer, type TestServer } from '../helpers/server.js';
import { rejection } from './grpc-helpers.js';

/** OUTPUT0 = INPUT0 with one more column holding the byte 0xFF: output that is not UTF-8. */
function badTextModel(): Uint8Array {
  return encodeModel({
    name: 'bad_text',
    docString: 'appends a non-UTF-8 element to each row',
    inputs: [valueInfo('INPUT0', ELEM.STRING, [1, 1])],
    outputs: [valueInfo('OUTPUT0', ELEM.STRING, [1, 2])],
    initializers: [{ name: 'tail', dims: [1, 1], dataType: ELEM.STRING, stringData: [Uint8Array.of(0xff)] }],
    nodes: [node('Concat', ['INPUT0', 'tail'], ['OUTPUT0'], [attr('axis', 1)])],
  });
}

function bytesOut(resp: { rawOutputContents: Uint8Array[] }): Buffer[] {
  const raw = Buffer.from(resp.rawOutputContents[0]);
  const out: Buffer[] = [];
  for (let at = 0; at < raw.length; ) {
    const n = raw.readUInt32LE(at);
    out.push(raw.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

describe('BYTES tensors', () => {
  let t: TestServer;
  let c: GrpcInferenceClient;
  let repo: string;

  beforeAll(async () => {
    repo = mkdtempSync(join(tmpdir(), 'switchyard-bytes-'));
    cpSync(join(EXAMPLE_MODELS, 'simple_identity'), join(repo, 'simple_identity'), { recursive: true });
    mkdirSync(join(repo, 'bad_text', '1'), { recursive: true });
    writeFileSync(join(repo, 'bad_text', '1', 'model.onnx'), badTextModel());
    t = await startTestServer({}, repo);
    c = new GrpcInferenceClient(t.grpcAddress);
  });

  afterAll(async () => {
    c?.close();
    await t?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  const identity = (elements: Uint8Array[]) => ({
    modelName: 'simple_identity',
    inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1n, BigInt(elements.length)], contents: { bytesContents: elements } }],
  });

  it('carries multi-byte UTF-8, U+FFFD itself and empty elements byte for byte', async () => {
    const elements = ['é中', '\uFFFD', '\u{1F600}', '', ' a '].map((s) => Buffer.from(s, 'utf8'));
    const resp = await c.unary('modelInfer', identity(elements));
    expect(bytesOut(resp)).toEqual(elements);
  });

  it('refuses a NUL byte over gRPC and REST, naming the element and the offset', async () => {
    const e = await rejection(c.unary('modelInfer', identity([Buffer.from('ok'), Buffer.from('he\0llo')])));
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details).toMatch(/^input "INPUT0": element 1 holds a NUL byte at offset 2; ONNX Runtime's Node binding/);
    const r = await postJson(`${t.url}/v2/models/simple_identity/infer`, { inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1], data: ['a\u0000b'] }] });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/^input "INPUT0": element 0 holds a NUL byte at offset 1;/);
  });

  it('refuses bytes that are not UTF-8, naming where they stop being UTF-8', async () => {
    for (const [bytes, offset] of [
      [Uint8Array.of(0x61, 0xff), 1],
      [Uint8Array.of(0xc3), 0], // truncated sequence
      [Uint8Array.of(0x61, 0xed, 0xa0, 0x80), 1], // a UTF-16 surrogate
      [Uint8Array.of(0xc0, 0xaf), 0], // overlong '/'
    ] as const) {
      const e = await rejection(c.unary('modelInfer', identity([bytes])));
      expect(e.details).toContain(`input "INPUT0": element 0 is not valid UTF-8 from byte offset ${offset};`);
    }
  });

  it('refuses a PNG header (an image sent as BYTES) on every path, never answering it changed', async () => {
    // \x89PNG\r\n\x1a\n, then the IHDR chunk's length (NULs): not UTF-8 at byte 0, NUL at 8
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52);
    const refusal = /^input "INPUT0": element 0 (is not valid UTF-8 from byte offset 0|holds a NUL byte at offset 8);/;
    // gRPC typed contents
    const typed = await rejection(c.unary('modelInfer', identity([png])));
    expect(typed.code).toBe(status.INVALID_ARGUMENT);
    expect(typed.details).toMatch(refusal);
    // gRPC raw_input_contents (4-byte length prefix, then the bytes)
    const raw = Buffer.concat([Buffer.from(Uint32Array.of(png.length).buffer), png]);
    const rawErr = await rejection(c.unary('modelInfer', { modelName: 'simple_identity', inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1n, 1n] }], rawInputContents: [raw] }));
    expect(rawErr.code).toBe(status.INVALID_ARGUMENT);
    expect(rawErr.details).toMatch(refusal);
    // REST binary tensor extension
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1], parameters: { binary_data_size: raw.length } }] }));
    const res = await fetch(`${t.url}/v2/models/simple_identity/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([header, raw]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(refusal);
    // the same bytes after a valid element: the element index is the PNG's
    const second = await rejection(c.unary('modelInfer', identity([Buffer.from('ok'), png])));
    expect(second.details).toMatch(/^input "INPUT0": element 1 /);
  });

  it('refuses an output ONNX Runtime decoded with U+FFFD that no input held', async () => {
    const req = (s: string) => ({ modelName: 'bad_text', inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1n, 1n], contents: { bytesContents: [Buffer.from(s)] } }] });
    const e = await rejection(c.unary('modelInfer', req('x')));
    expect(e.code).toBe(status.INTERNAL);
    expect(e.details).toMatch(/^output "OUTPUT0": element 1 holds U\+FFFD, which ONNX Runtime's Node binding puts in place of bytes that are not UTF-8/);
    // the server keeps serving
    expect(bytesOut(await c.unary('modelInfer', identity([Buffer.from('still here')])))).toEqual([Buffer.from('still here')]);
  });
});
