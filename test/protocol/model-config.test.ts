import { describe, expect, it } from 'vitest';
import { tritonModelConfig } from '../../src/protocol/index.js';
import type { LoadedVersion } from '../../src/repository/index.js';

/** The fields tritonModelConfig reads, as a loaded version has them. */
function version(overrides: { max_batch_size?: number; version_policy?: unknown; provider?: string; default_priority_level?: number; outputs?: unknown }): LoadedVersion {
  return {
    name: 'm',
    version: '3',
    provider: overrides.provider ?? 'cpu',
    signature: {
      inputs: [
        { name: 'ids', datatype: 'BYTES', shape: [-1] },
        { name: 'x', datatype: 'FP16', shape: [-1, 4, 8] },
      ],
      outputs: [{ name: 'y', datatype: 'INT64', shape: [-1, 2] }],
    },
    config: {
      max_batch_size: overrides.max_batch_size ?? 8,
      instance_count: 2,
      execution_providers: ['cuda', 'cpu'],
      version_policy: overrides.version_policy ?? { latest: 2 },
      dynamic_batching: {
        max_queue_delay_us: 250,
        preferred_batch_sizes: [4, 8],
        max_queue_size: 100,
        default_timeout_us: 5000,
        priority_levels: 3,
        default_priority_level: overrides.default_priority_level ?? 0,
      },
      outputs: overrides.outputs ?? {},
    },
  } as unknown as LoadedVersion;
}

describe('tritonModelConfig', () => {
  it('leaves the batch dimension out of dims when the model batches', () => {
    const c = tritonModelConfig(version({}));
    expect(c.max_batch_size).toBe(8);
    expect(c.input).toEqual([
      { name: 'ids', data_type: 'TYPE_STRING', dims: [] },
      { name: 'x', data_type: 'TYPE_FP16', dims: [4, 8] },
    ]);
    expect(c.output).toEqual([{ name: 'y', data_type: 'TYPE_INT64', dims: [2] }]);
    expect(c.dynamic_batching).toEqual({
      preferred_batch_size: [4, 8],
      max_queue_delay_microseconds: 250,
      priority_levels: 3,
      default_priority_level: 3,
      default_queue_policy: { timeout_action: 'REJECT', default_timeout_microseconds: 5000, allow_timeout_override: true, max_queue_size: 100 },
    });
    expect(c.instance_group).toEqual([{ name: 'm', kind: 'KIND_CPU', count: 2 }]);
    expect(c.version_policy).toEqual({ latest: { num_versions: 2 } });
  });

  it('keeps full shapes and has no dynamic_batching when max_batch_size is 0', () => {
    const c = tritonModelConfig(version({ max_batch_size: 0 }));
    expect(c.input[1].dims).toEqual([-1, 4, 8]);
    expect(c.dynamic_batching).toBeUndefined();
  });

  it("names an output's labels file as Triton's label_filename", () => {
    const c = tritonModelConfig(version({ outputs: { y: { label_filename: 'labels.txt' } } }));
    expect(c.output).toEqual([{ name: 'y', data_type: 'TYPE_INT64', dims: [2], label_filename: 'labels.txt' }]);
  });

  it('maps every version policy, a set default priority and GPU providers', () => {
    expect(tritonModelConfig(version({ version_policy: 'all' })).version_policy).toEqual({ all: {} });
    expect(tritonModelConfig(version({ version_policy: { specific: [1, 3] } })).version_policy).toEqual({ specific: { versions: [1, 3] } });
    expect(tritonModelConfig(version({ default_priority_level: 1 })).dynamic_batching?.default_priority_level).toBe(1);
    const gpu = tritonModelConfig(version({ provider: 'tensorrt' }));
    expect(gpu.instance_group[0].kind).toBe('KIND_GPU');
    expect(gpu.parameters.execution_provider).toEqual({ string_value: 'tensorrt' });
  });
});
