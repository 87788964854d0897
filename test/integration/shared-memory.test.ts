/**
 * Triton's system shared memory extension over REST and gRPC against the example `simple`
 * model (INPUT0, INPUT1 INT32 [-1,16] → OUTPUT0 = sum, OUTPUT1 = difference): regions are
 * real POSIX shared memory objects, files under /dev/shm as shm_open creates them.
 */
import { status } from '@grpc/grpc-js';
import { existsSync, ftruncateSync, openSync, closeSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { getJson, postJson, startTestServer, type TestServer } from '../helpers/server.js';
import { authorization, rejection } from './grpc-helpers.js';

const SHM = '/dev/shm';
const PREFIX = `sy-test-${process.pid}-`;
const created: string[] = [];

/** Creates the shm object `/<name>` of `size` bytes (what shm_open + ftruncate do); returns its key. */
function shmObject(name: string, size: number, content?: Uint8Array): string {
  const file = `${SHM}/${PREFIX}${name}`;
  const bytes = new Uint8Array(size);
  if (content !== undefined) bytes.set(content);
  writeFileSync(file, bytes);
  created.push(file);
  return `/${PREFIX}${name}`;
}

function fileOf(key: string): string {
  return `${SHM}/${key.slice(1)}`;
}

function int32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(values).buffer);
}

function int32At(key: string, offset: number, count: number): number[] {
  const b = readFileSync(fileOf(key));
  return Array.from(new Int32Array(b.buffer.slice(b.byteOffset + offset, b.byteOffset + offset + count * 4)));
}

const IN0 = Array.from({ length: 16 }, (_, i) => i);
const IN1 = Array.from({ length: 16 }, () => 1);
const SUM = IN0.map((v, i) => v + IN1[i]);
const DIFF = IN0.map((v, i) => v - IN1[i]);

function inputs(): Uint8Array {
  const b = new Uint8Array(128);
  b.set(int32Bytes(IN0), 0);
  b.set(int32Bytes(IN1), 64);
  return b;
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
  for (const f of created) rmSync(f, { force: true });
});
afterEach(async () => {
  await postJson(`${t.url}/v2/systemsharedmemory/unregister`, '');
});

const register = (name: string, body: unknown, headers: Record<string, string> = {}) => postJson(`${t.url}/v2/systemsharedmemory/region/${encodeURIComponent(name)}/register`, body, headers);

function shmInput(name: string, region: string, offset: number, size = 64): Record<string, unknown> {
  return { name, datatype: 'INT32', shape: [1, 16], parameters: { shared_memory_region: region, shared_memory_byte_size: size, ...(offset === 0 ? {} : { shared_memory_offset: offset }) } };
}

function shmOutput(name: string, region: string, offset: number, size = 64): Record<string, unknown> {
  return { name, parameters: { shared_memory_region: region, shared_memory_byte_size: size, ...(offset === 0 ? {} : { shared_memory_offset: offset }) } };
}

describe('REST: register, status, unregister', () => {
  it('lists what is registered, one region by name, and forgets unregistered ones', async () => {
    const key = shmObject('life', 256);
    expect((await register('a', { key, offset: 0, byte_size: 128 })).status).toBe(200);
    expect((await register('b', { key, offset: 128, byte_size: 128 })).status).toBe(200);
    const all = await fetch(`${t.url}/v2/systemsharedmemory/status`).then((r) => r.json());
    expect(all).toEqual([
      { name: 'a', key, offset: 0, byte_size: 128 },
      { name: 'b', key, offset: 128, byte_size: 128 },
    ]);
    expect(await fetch(`${t.url}/v2/systemsharedmemory/region/b/status`).then((r) => r.json())).toEqual([{ name: 'b', key, offset: 128, byte_size: 128 }]);
    expect((await postJson(`${t.url}/v2/systemsharedmemory/region/a/unregister`, '')).status).toBe(200);
    const missing = await getJson(`${t.url}/v2/systemsharedmemory/region/a/status`);
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatch(/^Unable to find system shared memory region: "a"/);
    // unregistering a name never registered is no error (as in Triton)
    expect((await postJson(`${t.url}/v2/systemsharedmemory/region/never/unregister`, '')).status).toBe(200);
    expect((await postJson(`${t.url}/v2/systemsharedmemory/unregister`, '')).status).toBe(200);
    expect(await fetch(`${t.url}/v2/systemsharedmemory/status`).then((r) => r.json())).toEqual([]);
  });

  it('refuses keys that are not shm keys, naming the rule', async () => {
    shmObject('plain', 64);
    for (const [key, rule] of [
      ['../etc/passwd', 'contains "/" after its first character'],
      ['/a/b', 'contains "/" after its first character'],
      ['/..', 'contains ".."'],
      ['..', 'contains ".."'],
      ['/x\u0000y', 'contains a NUL character'],
      ['/', 'has no name after its "/"'],
      ['', 'must be the non-empty name'],
    ] as const) {
      const r = await register('k', { key, byte_size: 8 });
      expect(r.status, key).toBe(400);
      expect(r.json.error as string, key).toContain(rule);
    }
    expect((await register('k', { key: 42, byte_size: 8 })).status).toBe(400);
  });

  it('refuses objects that do not exist, symbolic links, and ranges past the end', async () => {
    const missing = await register('m', { key: `/${PREFIX}nothing`, byte_size: 8 });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toMatch(/^Unable to open shared memory region: .*no such shared memory object; create it first/);
    const key = shmObject('small', 64);
    const link = `${SHM}/${PREFIX}link`;
    symlinkSync(fileOf(key), link);
    created.push(link);
    const linked = await register('l', { key: `/${PREFIX}link`, byte_size: 8 });
    expect(linked.status).toBe(400);
    expect(linked.json.error).toContain('symbolic link');
    const past = await register('p', { key, offset: 32, byte_size: 64 });
    expect(past.status).toBe(400);
    expect(past.json.error).toContain('offset 32 + byte_size 64 = 96 runs past the end of object');
    expect(past.json.error).toContain('(64 bytes)');
    for (const body of [{ key }, { byte_size: 8 }, { key, byte_size: -1 }, { key, byte_size: 0 }, { key, byte_size: 8, offset: 'x' }, { key, byte_size: 8, extra: 1 }, [1]]) {
      expect((await register('bad', body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await register('bad', '{oops')).status).toBe(400);
    expect((await register('ok', { key, byte_size: 64 })).status).toBe(200);
    const dup = await register('ok', { key, byte_size: 64 });
    expect(dup.status).toBe(409);
    expect(dup.json.error).toContain('already in manager');
  });
});

describe('REST: inference through shared memory', () => {
  it('reads inputs from a region and writes outputs into one, answering without data', async () => {
    const inKey = shmObject('in', 128, inputs());
    const outKey = shmObject('out', 128);
    await register('input_data', { key: inKey, byte_size: 128 });
    await register('output_data', { key: outKey, byte_size: 128 });
    const r = await postJson(`${t.url}/v2/models/simple/infer`, {
      inputs: [shmInput('INPUT0', 'input_data', 0), shmInput('INPUT1', 'input_data', 64)],
      outputs: [shmOutput('OUTPUT0', 'output_data', 0), { ...shmOutput('OUTPUT1', 'output_data', 64), parameters: { ...(shmOutput('OUTPUT1', 'output_data', 64).parameters as object), binary_data: true } }],
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('inference-header-content-length')).toBeNull();
    const outs = r.json.outputs as Record<string, unknown>[];
    expect(outs).toEqual([
      { name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], parameters: { shared_memory_region: 'output_data', shared_memory_byte_size: 64 } },
      { name: 'OUTPUT1', datatype: 'INT32', shape: [1, 16], parameters: { shared_memory_region: 'output_data', shared_memory_byte_size: 64, shared_memory_offset: 64 } },
    ]);
    expect(int32At(outKey, 0, 16)).toEqual(SUM);
    expect(int32At(outKey, 64, 16)).toEqual(DIFF);
  });

  it('mixes shared memory and JSON tensors in one request', async () => {
    const key = shmObject('mixed', 256, inputs());
    await register('r', { key, offset: 0, byte_size: 256 });
    const r = await postJson(`${t.url}/v2/models/simple/infer`, {
      inputs: [shmInput('INPUT0', 'r', 0), { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: IN1 }],
      outputs: [{ name: 'OUTPUT0' }, shmOutput('OUTPUT1', 'r', 128)],
    });
    expect(r.status).toBe(200);
    const outs = r.json.outputs as Record<string, unknown>[];
    expect(outs[0].data).toEqual(SUM);
    expect(outs[1].data).toBeUndefined();
    expect(int32At(key, 128, 16)).toEqual(DIFF);
  });

  it('answers bad shared memory tensors with a 400 that says what was wrong', async () => {
    const key = shmObject('errs', 128, inputs());
    const small = shmObject('small-out', 32);
    await register('r', { key, byte_size: 128 });
    await register('tiny', { key: small, byte_size: 32 });
    const infer = (ins: unknown[], outs?: unknown[]) => postJson(`${t.url}/v2/models/simple/infer`, { inputs: ins, ...(outs === undefined ? {} : { outputs: outs }) });
    const in1 = { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: IN1 };
    const cases: [unknown[], unknown[] | undefined, string][] = [
      [[shmInput('INPUT0', 'nope', 0), in1], undefined, 'input "INPUT0": Unable to find shared memory region: "nope"; register it first'],
      [[shmInput('INPUT0', 'r', 96), in1], undefined, 'input "INPUT0": shared_memory_offset 96 + shared_memory_byte_size 64 = 160 runs past the end of shared memory region "r" (128 bytes)'],
      [[shmInput('INPUT0', 'r', 0, 60), in1], undefined, 'input "INPUT0": shared_memory_byte_size 60 does not match shape [1,16] of INT32: expected 64 bytes (16 × 4)'],
      [[{ ...shmInput('INPUT0', 'r', 0), parameters: { shared_memory_region: 'r' } }, in1], undefined, 'input "INPUT0": parameters.shared_memory_byte_size must be specified along with parameters.shared_memory_region'],
      [[{ ...in1, name: 'INPUT0', parameters: { shared_memory_byte_size: 64 } }, in1], undefined, 'parameters.shared_memory_byte_size can not be specified without parameters.shared_memory_region'],
      [[{ ...shmInput('INPUT0', 'r', 0), data: IN0 }, in1], undefined, 'input "INPUT0": has both "data" and parameters.shared_memory_region; send one of them'],
      [[shmInput('INPUT0', 'r', 0), in1], [shmOutput('OUTPUT0', 'nope', 0)], 'output "OUTPUT0": Unable to find shared memory region: "nope"'],
      [[shmInput('INPUT0', 'r', 0), in1], [shmOutput('OUTPUT0', 'tiny', 0, 32)], "output \"OUTPUT0\": shared memory size specified with the request for output 'OUTPUT0' (32 bytes) should be at least 64 bytes to hold the results"],
    ];
    for (const [ins, outs, msg] of cases) {
      const r = await infer(ins, outs);
      expect(r.status, msg).toBe(400);
      expect(r.json.error as string).toContain(msg);
    }
    // and keeps serving
    expect((await infer([shmInput('INPUT0', 'r', 0), shmInput('INPUT1', 'r', 64)])).status).toBe(200);
  });

  it('refuses a region after it is unregistered', async () => {
    const key = shmObject('unreg', 128, inputs());
    await register('gone', { key, byte_size: 128 });
    const body = { inputs: [shmInput('INPUT0', 'gone', 0), shmInput('INPUT1', 'gone', 64)] };
    expect((await postJson(`${t.url}/v2/models/simple/infer`, body)).status).toBe(200);
    await postJson(`${t.url}/v2/systemsharedmemory/region/gone/unregister`, '');
    const r = await postJson(`${t.url}/v2/models/simple/infer`, body);
    expect(r.status).toBe(400);
    expect(r.json.error).toContain('Unable to find shared memory region: "gone"');
  });

  it('keeps using an object unlinked while registered, and says so when it was truncated', async () => {
    const file = `${SHM}/${PREFIX}unlinked`;
    writeFileSync(file, inputs());
    const fd = openSync(file, 'r+'); // the client's own handle (it keeps the object mapped)
    try {
      await register('u', { key: `/${PREFIX}unlinked`, byte_size: 128 });
      unlinkSync(file);
      expect(existsSync(file)).toBe(false);
      const r = await postJson(`${t.url}/v2/models/simple/infer`, { inputs: [shmInput('INPUT0', 'u', 0), shmInput('INPUT1', 'u', 64)], outputs: [shmOutput('OUTPUT0', 'u', 0)] });
      expect(r.status).toBe(200);
      // the client still sees what the gateway wrote into the unlinked object
      const back = Buffer.alloc(64);
      const { readSync } = await import('node:fs');
      readSync(fd, back, 0, 64, 0);
      expect(Array.from(new Int32Array(back.buffer, back.byteOffset, 16))).toEqual(SUM);
      // the client shrinks the object: a clear error, not a crash or a short read
      writeSync(fd, int32Bytes(IN0), 0, 64, 0);
      ftruncateSync(fd, 16);
      const cut = await postJson(`${t.url}/v2/models/simple/infer`, { inputs: [shmInput('INPUT0', 'u', 0), shmInput('INPUT1', 'u', 64)] });
      expect(cut.status).toBe(400);
      expect(cut.json.error).toContain('is now shorter than offset 0 + byte_size 128 (it was truncated after registration)');
    } finally {
      closeSync(fd);
    }
  });
});

describe('REST: CUDA shared memory and the extension list', () => {
  it('has no CUDA regions and refuses to register one, clearly', async () => {
    expect(await fetch(`${t.url}/v2/cudasharedmemory/status`).then((r) => r.json())).toEqual([]);
    const r = await postJson(`${t.url}/v2/cudasharedmemory/region/gpu0/register`, { raw_handle: { b64: 'AAAA' }, device_id: 0, byte_size: 64 });
    expect(r.status).toBe(400);
    expect(r.json.error).toContain('CUDA shared memory is not supported on this server (no GPU memory registration); use system shared memory');
    expect((await postJson(`${t.url}/v2/cudasharedmemory/unregister`, '')).status).toBe(200);
    expect((await getJson(`${t.url}/v2/cudasharedmemory/region/gpu0/status`)).status).toBe(404);
  });

  it('an input naming a region that is not registered gets that error, not a shape error', async () => {
    const r = await postJson(`${t.url}/v2/models/simple/infer`, { inputs: [shmInput('INPUT0', 'cuda_region', 0), shmInput('INPUT1', 'cuda_region', 64)] });
    expect(r.status).toBe(400);
    expect(r.json.error).toContain('Unable to find shared memory region: "cuda_region"');
    expect(r.json.error).not.toContain('elements');
  });

  it('lists system_shared_memory, trace and logging, and not cuda_shared_memory', async () => {
    const ext = (await getJson(`${t.url}/v2`)).json.extensions as string[];
    expect(ext).toEqual(expect.arrayContaining(['system_shared_memory', 'trace', 'logging']));
    expect(ext).not.toContain('cuda_shared_memory');
  });
});

describe('gRPC: shared memory rpcs and inference', () => {
  let c: GrpcInferenceClient;
  beforeAll(() => {
    c = new GrpcInferenceClient(t.grpcAddress);
  });
  afterAll(() => c.close());

  it('registers, lists and unregisters', async () => {
    const key = shmObject('g-life', 128);
    await c.unary('systemSharedMemoryRegister', { name: 'g', key, offset: 0n, byteSize: 128n });
    const st = await c.unary('systemSharedMemoryStatus', {});
    expect(Object.keys(st.regions)).toEqual(['g']);
    expect(st.regions.g).toMatchObject({ name: 'g', key, offset: 0n, byteSize: 128n });
    expect((await c.unary('systemSharedMemoryStatus', { name: 'g' })).regions.g.byteSize).toBe(128n);
    expect((await rejection(c.unary('systemSharedMemoryStatus', { name: 'other' }))).code).toBe(status.NOT_FOUND);
    const dup = await rejection(c.unary('systemSharedMemoryRegister', { name: 'g', key, byteSize: 64n }));
    expect(dup.code).toBe(status.FAILED_PRECONDITION);
    const bad = await rejection(c.unary('systemSharedMemoryRegister', { name: 'h', key: '/tmp/../x', byteSize: 64n }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toContain('contains "/" after its first character');
    await c.unary('systemSharedMemoryUnregister', { name: 'g' });
    expect(Object.keys((await c.unary('systemSharedMemoryStatus', {})).regions)).toEqual([]);
  });

  it('takes shm inputs without raw_input_contents entries and answers shm outputs with an empty one', async () => {
    const key = shmObject('g-infer', 256, inputs());
    await c.unary('systemSharedMemoryRegister', { name: 'gr', key, byteSize: 256n });
    const p = (region: string, size: number, offset: number) => ({
      shared_memory_region: { parameterChoice: { case: 'stringParam' as const, value: region } },
      shared_memory_byte_size: { parameterChoice: { case: 'int64Param' as const, value: BigInt(size) } },
      ...(offset === 0 ? {} : { shared_memory_offset: { parameterChoice: { case: 'int64Param' as const, value: BigInt(offset) } } }),
    });
    const resp = await c.unary('modelInfer', {
      modelName: 'simple',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1n, 16n], parameters: p('gr', 64, 0) },
        { name: 'INPUT1', datatype: 'INT32', shape: [1n, 16n] },
      ],
      // one entry: INPUT1's (INPUT0 is in shared memory)
      rawInputContents: [int32Bytes(IN1)],
      outputs: [{ name: 'OUTPUT0', parameters: p('gr', 64, 128) }, { name: 'OUTPUT1' }],
    });
    expect(resp.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['OUTPUT0', 'INT32', [1n, 16n]],
      ['OUTPUT1', 'INT32', [1n, 16n]],
    ]);
    expect(resp.outputs[0].parameters.shared_memory_region.parameterChoice.value).toBe('gr');
    expect(resp.rawOutputContents).toHaveLength(2);
    expect(resp.rawOutputContents[0].byteLength).toBe(0);
    expect(Array.from(new Int32Array(new Uint8Array(resp.rawOutputContents[1]).buffer))).toEqual(DIFF);
    expect(int32At(key, 128, 16)).toEqual(SUM);

    const wrongCount = await rejection(
      c.unary('modelInfer', {
        modelName: 'simple',
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1n, 16n], parameters: p('gr', 64, 0) },
          { name: 'INPUT1', datatype: 'INT32', shape: [1n, 16n] },
        ],
        rawInputContents: [int32Bytes(IN0), int32Bytes(IN1)],
      }),
    );
    expect(wrongCount.code).toBe(status.INVALID_ARGUMENT);
    expect(wrongCount.details).toContain('2 raw_input_contents for 1 inputs not in shared memory (1 of the 2 inputs are)');

    // all inputs in shared memory, a region never registered: that error, not "shape needs 16 elements, got 0"
    const unknown = await rejection(
      c.unary('modelInfer', {
        modelName: 'simple',
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1n, 16n], parameters: p('cuda0', 64, 0) },
          { name: 'INPUT1', datatype: 'INT32', shape: [1n, 16n], parameters: p('cuda0', 64, 64) },
        ],
      }),
    );
    expect(unknown.code).toBe(status.INVALID_ARGUMENT);
    expect(unknown.details).toContain('Unable to find shared memory region: "cuda0"');
    const tooSmall = await rejection(
      c.unary('modelInfer', {
        modelName: 'simple',
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1n, 16n], parameters: p('gr', 64, 0) },
          { name: 'INPUT1', datatype: 'INT32', shape: [1n, 16n], parameters: p('gr', 64, 64) },
        ],
        outputs: [{ name: 'OUTPUT0', parameters: p('gr', 16, 128) }],
      }),
    );
    expect(tooSmall.code).toBe(status.INVALID_ARGUMENT);
    expect(tooSmall.details).toContain('(16 bytes) should be at least 64 bytes to hold the results');
  });

  it('answers CUDA shared memory: no regions, registration refused', async () => {
    expect(Object.keys((await c.unary('cudaSharedMemoryStatus', {})).regions)).toEqual([]);
    const r = await rejection(c.unary('cudaSharedMemoryRegister', { name: 'gpu', rawHandle: new Uint8Array(64), deviceId: 0n, byteSize: 64n }));
    expect(r.code).toBe(status.INVALID_ARGUMENT);
    expect(r.details).toContain('CUDA shared memory is not supported on this server');
    await c.unary('cudaSharedMemoryUnregister', {});
    const ext = (await c.unary('serverMetadata', {})).extensions;
    expect(ext).toContain('system_shared_memory');
    expect(ext).not.toContain('cuda_shared_memory');
  });
});

describe('with an admin token', () => {
  let a: TestServer;
  let c: GrpcInferenceClient;
  beforeAll(async () => {
    a = await startTestServer({ admin_token: 'shm-secret' });
    c = new GrpcInferenceClient(a.grpcAddress);
  });
  afterAll(async () => {
    c.close();
    await a.stop();
  });

  it('registering and unregistering need the token; status and inference do not', async () => {
    const key = shmObject('admin', 128, inputs());
    const url = `${a.url}/v2/systemsharedmemory/region/adm/register`;
    expect((await postJson(url, { key, byte_size: 128 })).status).toBe(401);
    expect((await postJson(url, { key, byte_size: 128 }, { authorization: 'Bearer wrong' })).status).toBe(403);
    expect((await postJson(url, { key, byte_size: 128 }, { authorization: 'Bearer shm-secret' })).status).toBe(200);
    expect((await getJson(`${a.url}/v2/systemsharedmemory/status`)).status).toBe(200);
    const infer = await postJson(`${a.url}/v2/models/simple/infer`, { inputs: [shmInput('INPUT0', 'adm', 0), shmInput('INPUT1', 'adm', 64)] });
    expect(infer.status).toBe(200);
    expect(((infer.json.outputs as Record<string, unknown>[])[0].data as number[])).toEqual(SUM);
    expect((await postJson(`${a.url}/v2/systemsharedmemory/unregister`, '')).status).toBe(401);
    expect((await rejection(c.unary('systemSharedMemoryUnregister', {}))).code).toBe(status.UNAUTHENTICATED);
    expect((await rejection(c.unary('systemSharedMemoryRegister', { name: 'x', key, byteSize: 8n }))).code).toBe(status.UNAUTHENTICATED);
    await c.unary('systemSharedMemoryUnregister', {}, { metadata: authorization('shm-secret') });
    expect(Object.keys((await c.unary('systemSharedMemoryStatus', {})).regions)).toEqual([]);
  });
});
