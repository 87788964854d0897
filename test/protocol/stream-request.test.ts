import { describe, expect, it } from 'vitest';
import { decodeStreamRequest, parseInferRequestJson } from '../../src/protocol/index.js';

const enc = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v), 'utf8');
const INPUTS = [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }];

function decode(v: unknown): ReturnType<typeof decodeStreamRequest> {
  const body = enc(v);
  return decodeStreamRequest(parseInferRequestJson(body, null), body, null, 5);
}

describe('stream infer requests', () => {
  it('name their model and optional version in the body, and are marked protocol "ws"', () => {
    const r = decode({ id: 'a', model_name: 'tabular', model_version: '2', inputs: INPUTS });
    expect(r).toMatchObject({ id: 'a', modelName: 'tabular', modelVersion: '2', protocol: 'ws', receivedAt: 5 });
    expect(Array.from(r.inputs[0].data as Float32Array)).toEqual([1, 2]);
    expect(decode({ id: 'a', model_name: 'tabular', inputs: INPUTS }).modelVersion).toBeNull();
    expect(decode({ id: 'a', model_name: 'tabular', model_version: null, inputs: INPUTS }).modelVersion).toBeNull();
    expect(decode({ id: 'a', model_name: 'tabular', model_version: '', inputs: INPUTS }).modelVersion).toBeNull();
  });

  it('refuse a missing or non-string model_name or model_version, saying what is expected', () => {
    expect(() => decode({ id: 'a', inputs: INPUTS })).toThrow('the message has no "model_name"; expected {"id", "model_name", "inputs": [...]}');
    expect(() => decode({ id: 'a', model_name: '', inputs: INPUTS })).toThrow('"model_name" must be a non-empty string, got ""');
    expect(() => decode({ id: 'a', model_name: 'm', model_version: 2, inputs: INPUTS })).toThrow('"model_version" must be a string such as "1", got 2');
  });

  it('read binary tensors after the JSON header as the REST binary extension does', () => {
    const header = enc({ id: 'b', model_name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } }] });
    const body = Buffer.concat([header, Buffer.from(new Float32Array([3, 4]).buffer)]);
    const r = decodeStreamRequest(parseInferRequestJson(body, header.byteLength), body, header.byteLength, 0);
    expect(Array.from(r.inputs[0].data as Float32Array)).toEqual([3, 4]);
  });

  it('parseInferRequestJson refuses what is not a JSON object', () => {
    expect(() => parseInferRequestJson(enc([1]), null)).toThrow('the request body must be a JSON object with "inputs", got an array');
    expect(() => parseInferRequestJson(Buffer.from('{'), null)).toThrow(/^malformed JSON: /);
    expect(() => parseInferRequestJson(enc({}), 99)).toThrow(/Inference-Header-Content-Length 99 must be an integer between 0 and the body length/);
  });
});
