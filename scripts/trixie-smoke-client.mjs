// The outside half of scripts/trixie-smoke.sh: checks a gateway that serves the example
// config (inside the Debian 13 root, on Node 24) and what `doctor --json` printed there.
// Usage: node scripts/trixie-smoke-client.mjs <http port> <grpc port> <doctor.json>
// Exits 1 on the first check that fails.
import { readFileSync } from 'node:fs';
import { GrpcInferenceClient } from '../dist/transport/grpc/index.js';

const [httpPort, grpcPort, doctorFile] = process.argv.slice(2);
if (doctorFile === undefined) {
  process.stderr.write('usage: trixie-smoke-client.mjs <http port> <grpc port> <doctor.json>\n');
  process.exit(2);
}
const base = `http://127.0.0.1:${httpPort}`;
const ROW = [0.42, -1.3, 0.07, 2.5, -0.61, 1.18, 0.0, -2.2, 0.93, 0.33, -0.05, 1.77, -1.02, 0.5, 0.26, -0.88];

function check(ok, what, detail = '') {
  if (!ok) {
    process.stderr.write(`FAIL ${what}${detail === '' ? '' : `: ${detail}`}\n`);
    process.exit(1);
  }
  process.stdout.write(`ok   ${what}${detail === '' ? '' : ` (${detail})`}\n`);
}

const doctor = JSON.parse(readFileSync(doctorFile, 'utf8'));
check(/^v24\./.test(doctor.node), 'doctor: Node 24', `${doctor.node}, ABI ${doctor.abi}`);
check(doctor.uws === 'native' && doctor.uwsBuild.package === '@btc-vision/uwebsockets.js', 'doctor: the upstream uWS build loaded natively', `${doctor.uwsBuild.package} ${doctor.uwsBuild.version}`);
for (const n of doctor.uwsNotLoaded) process.stdout.write(`     not in use: ${n.package} ${n.version}: ${n.reason}\n`);
check(doctor.providers.some((p) => p.name === 'cpu' && p.available), 'doctor: ONNX Runtime CPU provider runs', `onnxruntime ${doctor.onnxruntime}`);

let ready = 0;
for (const until = Date.now() + 60_000; Date.now() < until; ) {
  ready = await fetch(`${base}/v2/health/ready`).then((r) => r.status, () => 0);
  if (ready === 200) break;
  await new Promise((r) => setTimeout(r, 200));
}
check(ready === 200, 'GET /v2/health/ready', `status ${ready}`);

const rest = await fetch(`${base}/v2/models/tabular/infer`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ id: 'trixie-rest', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 16], data: ROW }] }),
});
const restBody = await rest.json();
const probs = restBody.outputs?.find((o) => o.name === 'probabilities');
check(
  rest.status === 200 && restBody.id === 'trixie-rest' && probs?.data?.length === 3 && Math.abs(probs.data.reduce((a, b) => a + b, 0) - 1) < 1e-4,
  'REST infer tabular',
  `status ${rest.status}, probabilities ${JSON.stringify(probs?.data)}`,
);

// every datatype through the identity model: FP16 broke on Node 24 (a Float16Array reached
// onnxruntime-node's binding; see src/runtime/worker.ts), so this runtime is checked for each
const inputs = [
  { name: 'in_bool', datatype: 'BOOL', shape: [1, 3], data: [true, false, true] },
  { name: 'in_uint8', datatype: 'UINT8', shape: [1, 2], data: [0, 255] },
  { name: 'in_uint16', datatype: 'UINT16', shape: [1, 2], data: [0, 65535] },
  { name: 'in_uint32', datatype: 'UINT32', shape: [1, 2], data: [0, 4294967295] },
  { name: 'in_uint64', datatype: 'UINT64', shape: [1, 2], data: [0, 9007199254740991] },
  { name: 'in_int8', datatype: 'INT8', shape: [1, 2], data: [-128, 127] },
  { name: 'in_int16', datatype: 'INT16', shape: [1, 2], data: [-32768, 32767] },
  { name: 'in_int32', datatype: 'INT32', shape: [1, 2], data: [-2147483648, 2147483647] },
  { name: 'in_int64', datatype: 'INT64', shape: [1, 2], data: [-9007199254740991, 9007199254740991] },
  { name: 'in_fp16', datatype: 'FP16', shape: [1, 3], data: [0.5, -2, 65504] },
  { name: 'in_fp32', datatype: 'FP32', shape: [1, 2], data: [1.5, -0.25] },
  { name: 'in_fp64', datatype: 'FP64', shape: [1, 2], data: [Math.PI, -1e300] },
  { name: 'in_bytes', datatype: 'BYTES', shape: [1, 2], data: ['hello', 'wörld ✓'] },
];
const dt = await fetch(`${base}/v2/models/dtypes/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });
const dtBody = await dt.json();
const wrong = dt.status !== 200 ? [JSON.stringify(dtBody)] : inputs.filter((i) => JSON.stringify(dtBody.outputs?.find((o) => o.name === i.name.replace('in_', 'out_'))?.data) !== JSON.stringify(i.data)).map((i) => i.datatype);
check(wrong.length === 0, 'REST infer dtypes: every datatype comes back unchanged (FP16 included)', wrong.length === 0 ? `${inputs.length} datatypes` : `wrong: ${wrong.join(', ')}`);

const grpc = new GrpcInferenceClient(`127.0.0.1:${grpcPort}`);
try {
  const r = await grpc.unary('modelInfer', {
    id: 'trixie-grpc',
    modelName: 'tabular',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 16n] }],
    rawInputContents: [new Uint8Array(Float32Array.from(ROW).buffer)],
  });
  const i = r.outputs.findIndex((o) => o.name === 'probabilities');
  const p = i < 0 ? [] : Array.from(new Float32Array(new Uint8Array(r.rawOutputContents[i]).buffer));
  check(r.id === 'trixie-grpc' && p.length === 3 && p.every((v, k) => Math.abs(v - probs.data[k]) < 1e-5), 'gRPC ModelInfer tabular (same answer as REST)', JSON.stringify(p));
} catch (e) {
  check(false, 'gRPC ModelInfer tabular', String(e));
} finally {
  grpc.close();
}
