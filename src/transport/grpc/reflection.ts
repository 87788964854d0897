/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha, @grpc/reflection), so generic
 * tools such as grpcurl can list and call the services without the .proto files. The
 * reflection service reads serialized FileDescriptorProtos; they come from the descriptors
 * compiled into src/gen/, so reflection always describes exactly what is served.
 *
 * @grpc/reflection registers itself on a grpc-js Server (addToServer → addService); here it
 * registers on a stand-in that turns each of its methods into one of ours. Its handler
 * (ServerReflectionInfo, a bidi stream) uses a grpc-js duplex stream's `on('data')`,
 * `on('end')`, `write()` and `end()`; ReflectionStream gives it exactly those, over our call.
 * Reflection is rare: an EventEmitter per call is fine here.
 */
import { EventEmitter } from 'node:events';
import { toBinary } from '@bufbuild/protobuf';
import type { DescFile } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { ReflectionService } from '@grpc/reflection';
import type { Server, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { BidiCall, Method, StreamListener } from './call.js';

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];
type BidiHandler = (stream: ReflectionStream) => void;

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

/** The members of a grpc-js ServerDuplexStream that @grpc/reflection's handler uses. */
class ReflectionStream extends EventEmitter implements StreamListener<unknown> {
  private readonly call: BidiCall<unknown, unknown>;

  constructor(call: BidiCall<unknown, unknown>) {
    super();
    this.call = call;
    call.listen(this);
  }

  onMessage(request: unknown): void {
    this.emit('data', request);
  }

  onHalfClose(): void {
    this.emit('end');
  }

  onDrain(): void {
    this.emit('drain');
  }

  cancel(): void {
    this.emit('cancelled');
  }

  write(response: unknown): boolean {
    return this.call.write(response);
  }

  end(): void {
    this.call.end();
  }
}

/** Our methods for a grpc-js service definition whose methods are all bidi streams. */
function bidiMethods(def: ServiceDefinition, impl: UntypedServiceImplementation): Method[] {
  return Object.entries(def).map(([name, m]) => {
    // ReflectionStream has the members of a ServerDuplexStream the handler uses (see above)
    const handler = (impl[name] ?? (m.originalName === undefined ? undefined : impl[m.originalName])) as unknown as BidiHandler | undefined;
    if (!m.requestStream || !m.responseStream || handler === undefined) throw new Error(`reflection method ${m.path}: only implemented bidi streams are supported`);
    return {
      path: m.path,
      mode: 'bidi_streaming' as const,
      decode: m.requestDeserialize,
      encode: m.responseSerialize,
      handle: (call: BidiCall<unknown, unknown>) => handler(new ReflectionStream(call)),
    };
  });
}

/** The reflection methods (v1 and v1alpha) for the services declared in `files`. */
export function reflectionMethods(files: readonly DescFile[]): Method[] {
  const encoded = withDependencies(files).map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  // @grpc/reflection reads only `fileDescriptorProtos` of each entry of a proto-loader
  // package definition; one entry carrying every file is enough for it to index them all.
  const pkg = {
    'switchyard.files': { format: 'Protocol Buffer 3 FileDescriptorProto', type: {}, fileDescriptorProtos: encoded },
  } as unknown as PackageDefinition;
  const methods: Method[] = [];
  const server: Pick<Server, 'addService'> = {
    addService: (def, impl) => {
      methods.push(...bidiMethods(def, impl));
    },
  };
  new ReflectionService(pkg).addToServer(server);
  return methods;
}
