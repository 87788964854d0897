import { GatewayError } from '../core/errors.js';

/**
 * The parameters of a repository load request (REST body `parameters`, gRPC
 * RepositoryModelLoadRequest.parameters, already unwrapped to plain values), as the text of
 * the config override or null. Only `config` is understood; Triton's `file:<path>` parameters
 * (model files inside the request) are refused, since switchyard loads from its repository.
 */
export function loadOverride(params: readonly (readonly [string, unknown])[]): string | null {
  let config: string | null = null;
  for (const [k, v] of params) {
    if (k === 'config') {
      if (typeof v !== 'string') throw new GatewayError('SY_ERR_BAD_REQUEST', `load parameter "config" must be a string holding the model config as JSON, got ${typeof v}`);
      config = v;
    } else if (k.startsWith('file:')) {
      throw new GatewayError('SY_ERR_BAD_REQUEST', `load parameter "${k.slice(0, 80)}": sending model files with a load request is not supported; put the model in the repository folder and load it by name`);
    } else {
      throw new GatewayError('SY_ERR_BAD_REQUEST', `unknown load parameter "${k.slice(0, 64)}"; the one supported is "config" (a model config override as JSON)`);
    }
  }
  return config;
}
