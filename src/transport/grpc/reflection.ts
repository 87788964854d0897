/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha, @grpc/reflection), so generic
 * tools such as grpcurl can list and call the services without the .proto files. The
 * reflection service reads serialized FileDescriptorProtos; they come from the descriptors
 * compiled into src/gen/, so reflection always describes exactly what is served.
 */
import { toBinary } from '@bufbuild/protobuf';
import type { DescFile } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { ReflectionService } from '@grpc/reflection';
import type { Server } from '@grpc/grpc-js';

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

/** `files` and every file they import, each once. */
function withDependencies(files: readonly DescFile[]): DescFile[] {
  const out: DescFile[] = [];
  const visit = (f: DescFile): void => {
    if (out.includes(f)) return;
    for (const d of f.dependencies) visit(d);
    out.push(f);
  };
  files.forEach(visit);
  return out;
}

/** Adds the reflection service for the services declared in `files` to `server`. */
export function addReflection(server: Server, files: readonly DescFile[]): void {
  const encoded = withDependencies(files).map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  // @grpc/reflection reads only `fileDescriptorProtos` of each entry of a proto-loader
  // package definition; one entry carrying every file is enough for it to index them all.
  const pkg = {
    'switchyard.files': { format: 'Protocol Buffer 3 FileDescriptorProto', type: {}, fileDescriptorProtos: encoded },
  } as unknown as PackageDefinition;
  new ReflectionService(pkg).addToServer(server);
}
