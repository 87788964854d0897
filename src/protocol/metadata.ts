import { createRequire } from 'node:module';
import type { ModelRepository } from '../repository/index.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export const SERVER_NAME = 'switchyard';
export const SERVER_VERSION: string = pkg.version;

/** KServe v2 model metadata, plus switchyard's serving facts under `parameters`. */
export function modelMetadata(repo: ModelRepository, model: string, version: string | null): Record<string, unknown> {
  const v = repo.resolve(model, version);
  const versions = repo
    .index(true)
    .filter((e) => e.name === model)
    .map((e) => e.version);
  return {
    name: v.name,
    versions: version === null ? versions : [v.version],
    platform: 'onnxruntime_onnx',
    inputs: v.signature.inputs,
    outputs: v.signature.outputs,
    parameters: {
      version: v.version,
      max_batch_size: v.maxBatchSize,
      instance_count: v.config.instance_count,
      execution_provider: v.provider,
    },
  };
}
