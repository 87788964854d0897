/**
 * The GRPCInferenceService rpcs of Triton's protocol extensions: system shared memory
 * (status, register, unregister), CUDA shared memory (no regions: status is empty, register
 * is refused), trace settings and log settings. Each answers what its REST counterpart
 * (http/shm-routes.ts, http/settings-routes.ts) answers. Registering, unregistering and
 * changing settings are admin operations (the token travels as `authorization` metadata);
 * a TraceSetting or LogSettings call with no settings only reads them.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Gateway } from '../../gateway.js';
import {
  GRPCInferenceService,
  type LogSettingsResponse_SettingValueSchema,
  type LogSettingsRequest_SettingValue,
  type SystemSharedMemoryStatusResponse_RegionStatusSchema,
} from '../../gen/grpc_service_pb.js';
import { checkRegionName, cudaRegionNotFound, cudaSharedMemoryUnsupported } from '../../protocol/index.js';
import { checkModelName } from '../../repository/index.js';
import type { LogSettingsJson, TraceSettingsJson } from '../../telemetry/index.js';
import { checkAdminAccess } from '../admin-auth.js';
import type { CallContext } from './call.js';
import { peerAddress } from './rpcs.js';
import type { InputOf, MethodsOf, OutputInitOf } from './service-definition.js';
import { unary } from './unary.js';

type Methods = MethodsOf<typeof GRPCInferenceService>;
type Handler<K extends keyof Methods> = ReturnType<typeof unary<InputOf<Methods, K>, OutputInitOf<Methods, K>>>;
type RegionInit = MessageInitShape<typeof SystemSharedMemoryStatusResponse_RegionStatusSchema>;
type LogValueInit = MessageInitShape<typeof LogSettingsResponse_SettingValueSchema>;

export interface ExtensionRpcs {
  systemSharedMemoryStatus: Handler<'systemSharedMemoryStatus'>;
  systemSharedMemoryRegister: Handler<'systemSharedMemoryRegister'>;
  systemSharedMemoryUnregister: Handler<'systemSharedMemoryUnregister'>;
  cudaSharedMemoryStatus: Handler<'cudaSharedMemoryStatus'>;
  cudaSharedMemoryRegister: Handler<'cudaSharedMemoryRegister'>;
  cudaSharedMemoryUnregister: Handler<'cudaSharedMemoryUnregister'>;
  traceSetting: Handler<'traceSetting'>;
  logSettings: Handler<'logSettings'>;
}

function traceReply(s: TraceSettingsJson): { settings: Record<string, { value: string[] }> } {
  const settings: Record<string, { value: string[] }> = {};
  for (const [k, v] of Object.entries(s)) settings[k] = { value: typeof v === 'string' ? [v] : v };
  return { settings };
}

function logReply(s: LogSettingsJson): { settings: Record<string, LogValueInit> } {
  const settings: Record<string, LogValueInit> = {};
  for (const [k, v] of Object.entries(s)) {
    settings[k] =
      typeof v === 'boolean'
        ? { parameterChoice: { case: 'boolParam', value: v } }
        : typeof v === 'number'
          ? { parameterChoice: { case: 'uint32Param', value: v } }
          : { parameterChoice: { case: 'stringParam', value: v } };
  }
  return { settings };
}

function logValue(v: LogSettingsRequest_SettingValue): unknown {
  return v.parameterChoice.case === undefined ? null : v.parameterChoice.value;
}

export function extensionRpcs(g: Gateway): ExtensionRpcs {
  const log = g.log;
  const shm = g.sharedMemory;
  const admin = (call: CallContext): void => {
    checkAdminAccess(g.config.admin_token, call.header('authorization'), peerAddress(call.getPeer()));
  };
  return {
    systemSharedMemoryStatus: unary(log, 'SystemSharedMemoryStatus', (r) => {
      const regions: Record<string, RegionInit> = {};
      for (const s of shm.status(r.name === '' ? null : r.name)) {
        regions[s.name] = { name: s.name, key: s.key, offset: BigInt(s.offset), byteSize: BigInt(s.byte_size) };
      }
      return { regions };
    }),
    systemSharedMemoryRegister: unary(log, 'SystemSharedMemoryRegister', (r, call) => {
      admin(call);
      checkRegionName(r.name);
      shm.register(r.name, r.key, r.offset, r.byteSize);
      return {};
    }),
    systemSharedMemoryUnregister: unary(log, 'SystemSharedMemoryUnregister', (r, call) => {
      admin(call);
      shm.unregister(r.name === '' ? null : r.name);
      return {};
    }),
    cudaSharedMemoryStatus: unary(log, 'CudaSharedMemoryStatus', (r) => {
      if (r.name !== '') throw cudaRegionNotFound(shm, r.name);
      return { regions: {} };
    }),
    cudaSharedMemoryRegister: unary(log, 'CudaSharedMemoryRegister', (r) => {
      throw cudaSharedMemoryUnsupported(r.name);
    }),
    cudaSharedMemoryUnregister: unary(log, 'CudaSharedMemoryUnregister', () => ({})),
    traceSetting: unary(log, 'TraceSetting', (r, call) => {
      let model: string | null = null;
      if (r.modelName !== '') {
        checkModelName(r.modelName);
        g.modelReady(r.modelName, null); // throws the unknown-model 404
        model = r.modelName;
      }
      const keys = Object.keys(r.settings);
      if (keys.length > 0) {
        admin(call);
        // a setting sent with no values clears it (tritonclient sends None so)
        g.traceSettings.update(model, new Map(keys.map((k) => [k, r.settings[k].value.length === 0 ? null : r.settings[k].value])));
      }
      return traceReply(g.traceSettings.get(model));
    }),
    logSettings: unary(log, 'LogSettings', (r, call) => {
      const keys = Object.keys(r.settings);
      if (keys.length > 0) {
        admin(call);
        g.logSettings.update(new Map(keys.map((k) => [k, logValue(r.settings[k])])));
      }
      return logReply(g.logSettings.get());
    }),
  };
}
