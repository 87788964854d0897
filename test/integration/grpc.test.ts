import { equals, fromJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { loadSync } from '@grpc/proto-loader';
import { loadPackageDefinition, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHalf } from '../../src/core/index.js';
import { ModelStatisticsResponseSchema, type InferTensorContentsSchema } from '../../src/gen/grpc_service_pb.js';
import { ModelConfigSchema } from '../../src/gen/model_config_pb.js';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { counter, getJson, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';
import { HealthClient, ServingStatus, floats, int64s, rejection, tabularRaw, tabularTyped, waitFor } from './grpc-helpers.js';

let t: TestServer;
let c: GrpcInferenceClient;
beforeAll(async () => {
  t = await startTestServer();
  c = new GrpcInferenceClient(t.grpcAddress);
});
afterAll(async () => {
  c.close();
  await t.stop();
});

describe('server and model rpcs', () => {
  it('answers ServerLive, ServerReady and ServerMetadata', async () => {
    expect((await c.unary('serverLive', {})).live).toBe(true);
    expect((await c.unary('serverReady', {})).ready).toBe(true);
    const md = await c.unary('serverMetadata', {});
    expect(md.name).toBe('switchyard');
    expect(md.extensions).toContain('model_repository');
  });

  it('answers ModelReady, and ready=false (no error, as Triton) for an unknown model or version', async () => {
    expect((await c.unary('modelReady', { name: 'tabular' })).ready).toBe(true);
    expect((await c.unary('modelReady', { name: 'tabular', version: '1' })).ready).toBe(true);
    expect((await c.unary('modelReady', { name: 'nope' })).ready).toBe(false);
    expect((await c.unary('modelReady', { name: 'tabular', version: '9' })).ready).toBe(false);
    // a malformed name is still an error, not "not ready"
    expect((await rejection(c.unary('modelReady', { name: '../etc' }))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('answers ModelMetadata with the versions and the tensors, -1 for dynamic dimensions', async () => {
    const md = await c.unary('modelMetadata', { name: 'tabular' });
    expect(md.name).toBe('tabular');
    expect(md.versions).toEqual(['1', '2']);
    expect(md.platform).toBe('onnxruntime_onnx');
    expect(md.inputs.map((i) => [i.name, i.datatype, i.shape])).toEqual([['x', 'FP32', [-1n, 16n]]]);
    expect(md.outputs.map((o) => o.name)).toEqual(['probabilities', 'label']);
    expect((await c.unary('modelMetadata', { name: 'tabular', version: '1' })).versions).toEqual(['1']);
  });

  it('answers ModelConfig with what REST answers, field for field', async () => {
    for (const [name, version] of [['tabular', ''], ['tabular', '1'], ['heavy', ''], ['dtypes', '']]) {
      const grpc = (await c.unary('modelConfig', { name, version })).config!;
      const rest = await getJson(`${t.url}/v2/models/${name}${version ? `/versions/${version}` : ''}/config`);
      // strict: fails if the REST JSON carries a field proto/model_config.proto lacks
      expect(equals(ModelConfigSchema, grpc, fromJson(ModelConfigSchema, rest.json as JsonValue))).toBe(true);
    }
    const tabular = (await c.unary('modelConfig', { name: 'tabular' })).config!;
    expect(tabular.maxBatchSize).toBe(64);
    expect(tabular.input[0].dims).toEqual([16n]);
    expect(tabular.schedulingChoice.case).toBe('dynamicBatching');
  });

  it('answers ModelStatistics with what REST answers, counting gRPC inferences', async () => {
    const before = (await c.unary('modelStatistics', { name: 'tabular', version: '2' })).modelStats[0].inferenceCount;
    await c.unary('modelInfer', tabularRaw(tabularRows(3), { modelVersion: '2' }));
    const grpc = await c.unary('modelStatistics', { name: 'tabular', version: '2' });
    expect(grpc.modelStats[0].inferenceCount - before).toBe(3n);
    expect(grpc.modelStats[0].inferenceStats!.success!.count).toBeGreaterThan(0n);
    const rest = await getJson(`${t.url}/v2/models/tabular/versions/2/stats`);
    expect(equals(ModelStatisticsResponseSchema, grpc, fromJson(ModelStatisticsResponseSchema, rest.json as JsonValue))).toBe(true);
    const all = await c.unary('modelStatistics', {});
    expect(all.modelStats.map((s) => `${s.name}@${s.version}`)).toEqual(['dtypes@1', 'heavy@1', 'simple@1', 'simple_identity@1', 'simple_int8@1', 'simple_string@1', 'tabular@1', 'tabular@2']);
    expect((await rejection(c.unary('modelStatistics', { name: 'nope' }))).code).toBe(status.NOT_FOUND);
    expect((await rejection(c.unary('modelStatistics', { version: '1' }))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('answers RepositoryIndex to a loopback client as REST does', async () => {
    const grpc = await c.unary('repositoryIndex', { ready: true });
    const rest = await postJson(`${t.url}/v2/repository/index`, { ready: true });
    expect(grpc.models.map((m) => ({ name: m.name, version: m.version, state: m.state, reason: m.reason }))).toEqual(rest.json);
  });
});

describe('ModelInfer', () => {
  const rows = tabularRows(4, 7);
  let expected: { probabilities: number[]; label: number[] };
  beforeAll(async () => {
    const rest = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(rows));
    const outs = rest.json.outputs as { name: string; data: number[] }[];
    expected = { probabilities: outs[0].data.flat(), label: outs[1].data };
  });

  it('takes typed contents and answers in raw_output_contents (as Triton does), as REST computes', async () => {
    const r = await c.unary('modelInfer', tabularTyped(rows, { id: 'typed-1' }));
    expect(r.id).toBe('typed-1');
    expect(r.modelName).toBe('tabular');
    expect(r.modelVersion).toBe('2');
    expect(r.outputs.map((o) => [o.name, o.datatype, o.shape, o.contents])).toEqual([
      ['probabilities', 'FP32', [4n, 3n], undefined],
      ['label', 'INT64', [4n], undefined],
    ]);
    expect(floats(r.rawOutputContents[0])).toEqual(expected.probabilities.map(Math.fround));
    expect(int64s(r.rawOutputContents[1])).toEqual(expected.label.map(BigInt));
  });

  it('takes raw_input_contents and answers in raw_output_contents, as Triton does', async () => {
    const r = await c.unary('modelInfer', tabularRaw(rows, { id: 'raw-1', modelVersion: '2' }));
    expect(r.id).toBe('raw-1');
    expect(r.outputs.every((o) => o.contents === undefined)).toBe(true);
    expect(floats(r.rawOutputContents[0])).toEqual(expected.probabilities.map(Math.fround));
    expect(int64s(r.rawOutputContents[1])).toEqual(expected.label.map(BigInt));
  });

  it('answers only the outputs asked for, and gives every request an id', async () => {
    const r = await c.unary('modelInfer', tabularRaw(rows, { outputs: [{ name: 'label' }] }));
    expect(r.outputs.map((o) => o.name)).toEqual(['label']);
    expect(r.rawOutputContents.length).toBe(1);
    expect(r.id).not.toBe('');
  });

  it('passes every datatype through the dtypes model in raw contents, bit for bit (BYTES, FP16, 64-bit integers)', async () => {
    const md = await c.unary('modelMetadata', { name: 'dtypes' });
    const raw: Record<string, Uint8Array> = {
      BOOL: new Uint8Array([1, 0]),
      UINT8: new Uint8Array([0, 255]),
      UINT16: new Uint8Array(new Uint16Array([1, 65535]).buffer),
      UINT32: new Uint8Array(new Uint32Array([1, 2 ** 32 - 1]).buffer),
      UINT64: new Uint8Array(new BigUint64Array([1n, 2n ** 64n - 1n]).buffer),
      INT8: new Uint8Array(new Int8Array([-128, 127]).buffer),
      INT16: new Uint8Array(new Int16Array([-32768, 32767]).buffer),
      INT32: new Uint8Array(new Int32Array([-(2 ** 31), 2 ** 31 - 1]).buffer),
      INT64: new Uint8Array(new BigInt64Array([-(2n ** 63n), 2n ** 53n + 1n]).buffer),
      FP16: new Uint8Array(Uint16Array.from([1.5, -65504], toHalf).buffer),
      FP32: new Uint8Array(new Float32Array([0.25, -1e30]).buffer),
      FP64: new Uint8Array(new Float64Array([Math.PI, -0]).buffer),
      // two elements: "hé" and "" as 4-byte little-endian lengths + bytes
      BYTES: new Uint8Array([3, 0, 0, 0, 0x68, 0xc3, 0xa9, 0, 0, 0, 0]),
    };
    const inputs = md.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: [1n, 2n] }));
    const r = await c.unary('modelInfer', { modelName: 'dtypes', inputs, rawInputContents: md.inputs.map((i) => raw[i.datatype]) });
    for (let k = 0; k < r.outputs.length; k++) {
      const o = r.outputs[k];
      expect(o.shape, o.name).toEqual([1n, 2n]);
      expect(Array.from(r.rawOutputContents[k]), o.name).toEqual(Array.from(raw[o.datatype]));
    }
    expect(r.outputs.map((o) => o.datatype).sort()).toEqual(Object.keys(raw).sort());
  });

  it('refuses FP16 in typed contents, naming the raw form', async () => {
    const md = await c.unary('modelMetadata', { name: 'dtypes' });
    const typed: Record<string, MessageInitShape<typeof InferTensorContentsSchema>> = {
      BOOL: { boolContents: [true] },
      UINT64: { uint64Contents: [1n] },
      INT64: { int64Contents: [1n] },
      FP32: { fp32Contents: [1] },
      FP64: { fp64Contents: [1] },
      BYTES: { bytesContents: [new Uint8Array([1])] },
      FP16: {},
    };
    const contents = (dt: string) => typed[dt] ?? (dt.startsWith('U') ? { uintContents: [1] } : { intContents: [1] });
    const inputs = md.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: [1n, 1n], contents: contents(i.datatype) }));
    const err = await rejection(c.unary('modelInfer', { modelName: 'dtypes', inputs }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe('input "in_fp16": FP16 has no typed contents field; send its elements in raw_input_contents (little-endian)');
    // the same request with FP16 left out reaches the model, which wants all of its inputs
    const noHalf = await rejection(c.unary('modelInfer', { modelName: 'dtypes', inputs: inputs.filter((i) => i.datatype !== 'FP16') }));
    expect(noHalf.details).toMatch(/missing input "in_fp16"/);
  });
});

describe('status codes', () => {
  it('INVALID_ARGUMENT for bad input, with the message REST gives', async () => {
    const rows = tabularRows(1).map((r) => r.slice(0, 15));
    const rest = await postJson(`${t.url}/v2/models/tabular/infer`, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 15], data: rows }] });
    const err = await rejection(
      c.unary('modelInfer', { modelName: 'tabular', inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 15n], contents: { fp32Contents: rows.flat() } }] }),
    );
    expect(rest.status).toBe(400);
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe(rest.json.error);
    expect(err.metadata.get('switchyard-error-code')).toEqual(['SY_ERR_INVALID_INPUT']);
    const big = await rejection(c.unary('modelInfer', tabularRaw(tabularRows(65))));
    expect(big.code).toBe(status.INVALID_ARGUMENT);
    expect(big.details).toMatch(/larger than max_batch_size 64/);
  });

  it('NOT_FOUND for an unknown model or version', async () => {
    const model = await rejection(c.unary('modelInfer', tabularRaw(tabularRows(1), { modelName: 'nope' })));
    expect(model.code).toBe(status.NOT_FOUND);
    expect(model.details).toMatch(/^Request for unknown model: 'nope' is not found; GET \/v2\/repository\/index/);
    const version = await rejection(c.unary('modelInfer', tabularRaw(tabularRows(1), { modelVersion: '7' })));
    expect(version.code).toBe(status.NOT_FOUND);
    expect(version.details).toMatch(/Request for unknown model: 'tabular' version 7 is not found/);
  });
});

describe('health and reflection', () => {
  it('reports SERVING for the server and the inference service, NOT_FOUND for other services', async () => {
    const h = new HealthClient(t.grpcAddress);
    try {
      expect((await h.check('')).status).toBe(ServingStatus.SERVING);
      expect((await h.check('inference.GRPCInferenceService')).status).toBe(ServingStatus.SERVING);
      expect(((await rejection(h.check('other.Service'))) as ServiceError).code).toBe(status.NOT_FOUND);
      const seen: ServingStatus[] = [];
      const cancel = h.watch('', (s) => seen.push(s));
      const unknown: ServingStatus[] = [];
      const cancelUnknown = h.watch('other.Service', (s) => unknown.push(s));
      await waitFor(() => seen.length > 0 && unknown.length > 0, 'the first Watch statuses');
      expect(seen).toEqual([ServingStatus.SERVING]);
      expect(unknown).toEqual([ServingStatus.SERVICE_UNKNOWN]);
      cancel();
      cancelUnknown();
    } finally {
      h.close();
    }
  });

  it.each(['v1', 'v1alpha'] as const)('lists and describes the services over server reflection %s, as grpcurl asks', async (version) => {
    const require = createRequire(import.meta.url);
    const protoPath = require.resolve(`@grpc/reflection/build/proto/grpc/reflection/${version}/reflection.proto`);
    const pkg = loadPackageDefinition(loadSync(protoPath, { keepCase: true })) as unknown as {
      grpc: { reflection: Record<typeof version, { ServerReflection: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => { ServerReflectionInfo(): NodeJS.ReadWriteStream & { end(): void; write(m: unknown): boolean; cancel(): void } } }> };
    };
    const client = new pkg.grpc.reflection[version].ServerReflection(t.grpcAddress, credentials.createInsecure());
    const ask = (req: Record<string, unknown>): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const call = client.ServerReflectionInfo();
        call.on('data', (m: Record<string, unknown>) => {
          resolve(m);
          call.end();
        });
        call.on('error', reject);
        call.write(req);
      });
    const list = (await ask({ list_services: '*' })) as { list_services_response: { service: { name: string }[] } };
    const names = list.list_services_response.service.map((s) => s.name);
    expect(names).toContain('inference.GRPCInferenceService');
    expect(names).toContain('grpc.health.v1.Health');
    const file = (await ask({ file_containing_symbol: 'inference.GRPCInferenceService' })) as { file_descriptor_response: { file_descriptor_proto: Buffer[] } };
    const text = file.file_descriptor_response.file_descriptor_proto.map((b) => b.toString('latin1')).join('\n');
    expect(text).toContain('grpc_service.proto');
    expect(text).toContain('model_config.proto');
    expect(text).toContain('ModelStreamInfer');
  });
});

it('records gRPC requests in the metrics with protocol="grpc"', async () => {
  const read = async (): Promise<number> => counter(await (await fetch(`${t.url}/metrics`)).text(), 'switchyard_requests_total', 'protocol="grpc"');
  const before = await read();
  await c.unary('modelInfer', tabularRaw(tabularRows(1)));
  await rejection(c.unary('modelInfer', tabularRaw(tabularRows(65))));
  const text = await (await fetch(`${t.url}/metrics`)).text();
  expect((await read()) - before).toBe(2);
  expect(counter(text, 'switchyard_requests_total', 'model="tabular",version="2",protocol="grpc",status="success"')).toBeGreaterThan(0);
});
