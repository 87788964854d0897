#!/usr/bin/env node
/**
 * `npm run proto:generate [-- <out dir>]`: proto/ → src/gen/ (or <out dir>) with protoc and the
 * protoc-gen-es plugin (@bufbuild/protobuf v2 code, target ts). protoc comes from the OS
 * (Debian: apt-get install protobuf-compiler). src/gen/ is committed and never edited by hand;
 * test/gen/generated-current.test.ts fails when it differs from what this writes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = process.argv[2] ?? join(root, 'src', 'gen');
const protoDir = join(root, 'proto');

function protos(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? protos(p) : name.endsWith('.proto') ? [relative(protoDir, p)] : [];
  });
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
try {
  execFileSync(
    'protoc',
    [
      `--plugin=protoc-gen-es=${join(root, 'node_modules', '.bin', 'protoc-gen-es')}`,
      `--es_out=${out}`,
      '--es_opt=target=ts,import_extension=js',
      `--proto_path=${protoDir}`,
      ...protos(protoDir).sort(),
    ],
    { stdio: 'inherit' },
  );
} catch (e) {
  if (e.code === 'ENOENT') {
    console.error('proto:generate needs protoc on the PATH (Debian: apt-get install protobuf-compiler)');
    process.exit(1);
  }
  process.exit(typeof e.status === 'number' ? e.status : 1);
}
