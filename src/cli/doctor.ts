import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { probeModel } from '../runtime/probe-model.js';
import { SERVER_VERSION } from '../protocol/index.js';
import { uwsBuild, uwsNative, uwsNotLoaded } from '../transport/http/index.js';

const PROVIDERS = ['cpu', 'cuda', 'tensorrt'] as const;

export interface DoctorReport {
  switchyard: string;
  node: string;
  abi: string;
  uws: 'native' | 'js-fallback';
  /** the uWebSockets.js build in use (package and version) */
  uwsBuild: { package: string; version: string };
  /** the other builds, each with why it is not in use (load error, or not tried) */
  uwsNotLoaded: { package: string; version: string; reason: string }[];
  onnxruntime: string;
  providers: { name: string; available: boolean; detail: string }[];
}

/**
 * What this machine can do: Node, which uWebSockets.js server loaded, the ONNX Runtime
 * version and which execution providers can create a session (tried on a built-in model).
 * Creating sessions blocks the thread; this runs in the CLI, never in the serving process.
 */
export async function doctor(): Promise<DoctorReport> {
  const require = createRequire(import.meta.url);
  const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  const model = probeModel();
  const providers: DoctorReport['providers'] = [];
  for (const name of PROVIDERS) {
    try {
      const s = await ort.InferenceSession.create(model, { executionProviders: [name] });
      const out = await s.run({ x: new ort.Tensor('float32', Float32Array.of(1.5), [1]) });
      await s.release();
      const ok = (out.y.data as Float32Array)[0] === 1.5;
      providers.push({ name, available: ok, detail: ok ? 'session created and ran' : 'session ran but returned a wrong value' });
    } catch (e) {
      providers.push({ name, available: false, detail: (e instanceof Error ? e.message : String(e)).split('\n')[0] });
    }
  }
  return {
    switchyard: SERVER_VERSION,
    node: process.version,
    abi: process.versions.modules,
    uws: uwsNative ? 'native' : 'js-fallback',
    uwsBuild: { package: uwsBuild.package, version: uwsBuild.version },
    uwsNotLoaded: uwsNotLoaded.map((n) => ({ ...n })),
    onnxruntime: ortVersion,
    providers,
  };
}

export function formatDoctor(r: DoctorReport): string {
  const lines = [
    `switchyard       ${r.switchyard}`,
    `node             ${r.node} (ABI ${r.abi}, ${process.platform}-${process.arch})`,
    `uWebSockets.js   ${r.uws === 'native' ? 'native binary loaded' : 'JS FALLBACK in use (no native binary loaded; expect far lower throughput)'}: ${r.uwsBuild.package} ${r.uwsBuild.version}`,
    ...r.uwsNotLoaded.map((n) => `  not in use     ${n.package} ${n.version}: ${n.reason}`),
    `onnxruntime      ${r.onnxruntime}`,
    'execution providers:',
    ...r.providers.map((p) => `  ${p.name.padEnd(9)} ${p.available ? 'available' : 'not available'} (${p.detail})`),
  ];
  return lines.join('\n') + '\n';
}
