/**
 * The GRPCInferenceService rpcs other than inference: liveness, readiness, metadata, model
 * configuration, statistics and the repository extension. Each answers what its REST
 * counterpart answers, with the same checks and error messages. Repository rpcs are admin
 * operations (see ../admin-auth.ts): the token travels as `authorization` metadata.
 */
import { fromJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { GatewayError, type TensorSpec } from '../../core/index.js';
import type { Gateway } from '../../gateway.js';
import { ModelConfigSchema } from '../../gen/model_config_pb.js';
import { GRPCInferenceService, ModelStatisticsResponseSchema, type ModelMetadataResponse_TensorMetadataSchema } from '../../gen/grpc_service_pb.js';
import { checkModelName, checkVersion } from '../../repository/index.js';
import { checkAdminAccess } from '../admin-auth.js';
import { loadOverride } from '../load-parameters.js';
import type { CallContext } from './call.js';
import type { InputOf, MethodsOf, OutputInitOf } from './service-definition.js';
import { unary } from './unary.js';

type Methods = MethodsOf<typeof GRPCInferenceService>;
type Handler<K extends keyof Methods> = ReturnType<typeof unary<InputOf<Methods, K>, OutputInitOf<Methods, K>>>;

/** What the gRPC door supports of the protocol's extensions (binary_tensor_data is REST's). */
export const GRPC_EXTENSIONS: readonly string[] = ['model_repository', 'model_configuration', 'statistics', 'parameters', 'classification', 'system_shared_memory', 'trace', 'logging'];

/** The reply of ModelMetadata as `modelMetadata()` builds it for REST. */
interface ModelMetadataJson {
  name: string;
  versions: string[];
  platform: string;
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
}

type TensorMetadataInit = MessageInitShape<typeof ModelMetadataResponse_TensorMetadataSchema>;

function tensorMetadata(t: TensorSpec): TensorMetadataInit {
  return { name: t.name, datatype: t.datatype, shape: t.shape.map((d) => BigInt(d)) };
}

/** '' (unset in proto3) = the newest ready version. */
function optionalVersion(v: string): string | null {
  if (v === '') return null;
  checkVersion(v);
  return v;
}

/** The peer's address without its port (as calls report it: "127.0.0.1:5000" → "127.0.0.1", "::1:5000" → "::1"). */
export function peerAddress(peer: string): string {
  const colon = peer.lastIndexOf(':');
  const host = colon <= 0 ? peer : peer.slice(0, colon);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export interface ServiceRpcs {
  serverLive: Handler<'serverLive'>;
  serverReady: Handler<'serverReady'>;
  modelReady: Handler<'modelReady'>;
  serverMetadata: Handler<'serverMetadata'>;
  modelMetadata: Handler<'modelMetadata'>;
  modelConfig: Handler<'modelConfig'>;
  modelStatistics: Handler<'modelStatistics'>;
  repositoryIndex: Handler<'repositoryIndex'>;
  repositoryModelLoad: Handler<'repositoryModelLoad'>;
  repositoryModelUnload: Handler<'repositoryModelUnload'>;
}

export function serviceRpcs(g: Gateway): ServiceRpcs {
  const log = g.log;
  const admin = (call: CallContext): void => {
    checkAdminAccess(g.config.admin_token, call.header('authorization'), peerAddress(call.getPeer()));
  };
  return {
    serverLive: unary(log, 'ServerLive', () => ({ live: true })),
    serverReady: unary(log, 'ServerReady', () => ({ ready: g.ready })),
    modelReady: unary(log, 'ModelReady', (r) => {
      checkModelName(r.name);
      // Triton answers ready=false, not an error, for a name or version it does not serve
      try {
        return { ready: g.modelReady(r.name, optionalVersion(r.version)) };
      } catch (e) {
        if (e instanceof GatewayError && e.code === 'SY_ERR_MODEL_NOT_FOUND') return { ready: false };
        throw e;
      }
    }),
    serverMetadata: unary(log, 'ServerMetadata', () => g.serverMetadata(GRPC_EXTENSIONS)),
    modelMetadata: unary(log, 'ModelMetadata', (r) => {
      checkModelName(r.name);
      // modelMetadata() returns REST's JSON object; these are the fields it always sets
      const md = g.modelMetadata(r.name, optionalVersion(r.version)) as unknown as ModelMetadataJson;
      return { name: md.name, versions: md.versions, platform: md.platform, inputs: md.inputs.map(tensorMetadata), outputs: md.outputs.map(tensorMetadata) };
    }),
    modelConfig: unary(log, 'ModelConfig', (r) => {
      checkModelName(r.name);
      const json = g.modelConfig(r.name, optionalVersion(r.version));
      // the JSON uses the proto's field and enum names; fields newer than proto/ are left out
      return { config: fromJson(ModelConfigSchema, json as unknown as JsonValue, { ignoreUnknownFields: true }) };
    }),
    modelStatistics: unary(log, 'ModelStatistics', (r) => {
      if (r.name === '' && r.version !== '') {
        throw new GatewayError('SY_ERR_BAD_REQUEST', `statistics for version "${r.version.slice(0, 30)}" need the model's name; send name as well, or neither`);
      }
      if (r.name !== '') checkModelName(r.name);
      const stats = g.statistics(r.name === '' ? null : r.name, optionalVersion(r.version));
      return fromJson(ModelStatisticsResponseSchema, { model_stats: stats } as unknown as JsonValue, { ignoreUnknownFields: true });
    }),
    repositoryIndex: unary(log, 'RepositoryIndex', (r, call) => {
      admin(call);
      return { models: g.index(r.ready) };
    }),
    repositoryModelLoad: unary(log, 'RepositoryModelLoad', async (r, call) => {
      admin(call);
      checkModelName(r.modelName);
      const params = Object.entries(r.parameters).map(([k, p]) => [k, p.parameterChoice.value] as const);
      await g.load(r.modelName, loadOverride(params));
      return {};
    }),
    repositoryModelUnload: unary(log, 'RepositoryModelUnload', async (r, call) => {
      admin(call);
      checkModelName(r.modelName);
      await g.unload(r.modelName);
      return {};
    }),
  };
}
