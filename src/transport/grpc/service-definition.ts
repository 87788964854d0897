/**
 * grpc-js service definitions built from the descriptors protoc-gen-es generates (src/gen/):
 * one definition per method at `/<package>.<Service>/<Method>`, messages encoded and decoded
 * with @bufbuild/protobuf. Server and client share these, so both sides speak exactly what
 * proto/ says. Handlers may return plain init objects; `create()` fills in the defaults.
 */
import { create, fromBinary, toBinary, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { GatewayError } from '../../core/index.js';

/** The methods of a generated service, keyed by their camelCase local names. */
export type MethodsOf<S> = S extends GenService<infer M extends GenServiceMethods> ? M : never;

export type InputOf<M extends GenServiceMethods, K extends keyof M> = MessageShape<M[K]['input']>;
export type OutputInitOf<M extends GenServiceMethods, K extends keyof M> = MessageInitShape<M[K]['output']>;
export type OutputOf<M extends GenServiceMethods, K extends keyof M> = MessageShape<M[K]['output']>;

/** A Buffer over the same memory (grpc-js wants Buffers; Buffer.from(Uint8Array) would copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Encodes a message, an init object or bytes already in wire form (the ModelInfer answers
 * encode-response.ts writes itself), which pass as they are.
 */
export function serializer<D extends DescMessage>(schema: D): (msg: MessageInitShape<D> | Uint8Array) => Buffer {
  // create() returns a message of this type as it is, and completes a plain init object
  return (msg) => (msg instanceof Uint8Array ? asBuffer(msg) : asBuffer(toBinary(schema, create(schema, msg))));
}

export function deserializer<D extends DescMessage>(schema: D): (buf: Buffer) => MessageShape<D> {
  return (buf) => fromBinary(schema, buf);
}

/** Why a request message was refused while it was deserialized (see guardedDeserializer). */
const refusals = new WeakMap<object, GatewayError>();

/** The refusal a guarded deserializer attached to `msg` in place of decoding it, or null. */
export function refusalOf(msg: object): GatewayError | null {
  return refusals.get(msg) ?? null;
}

/**
 * A deserializer that runs `guard` on the bytes first and never throws: grpc-js answers a
 * throwing deserializer with INTERNAL "Error deserializing request", which tells the client
 * nothing and reaches no handler (so no count, no log). A refused or malformed message comes
 * back empty, its GatewayError kept for the handler (refusalOf), which answers and counts it.
 */
function guardedDeserializer<D extends DescMessage>(schema: D, guard: (bytes: Uint8Array) => void): (buf: Buffer) => MessageShape<D> {
  return (buf) => {
    try {
      guard(buf);
      return fromBinary(schema, buf);
    } catch (e) {
      const msg = create(schema);
      refusals.set(msg, e instanceof GatewayError ? e : new GatewayError('SY_ERR_INVALID_INPUT', `${schema.name} is malformed: ${e instanceof Error ? e.message : String(e)}`));
      return msg;
    }
  };
}

/**
 * The grpc-js definition of `service`, keyed by each method's local (camelCase) name.
 * `guards`: per method, a check of the request bytes before they are decoded.
 */
export function serviceDefinition(service: DescService, guards: Readonly<Record<string, (bytes: Uint8Array) => void>> = {}): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) {
    const guard = guards[m.localName];
    def[m.localName] = {
      path: methodPath(service, m.name),
      requestStream: m.methodKind === 'client_streaming' || m.methodKind === 'bidi_streaming',
      responseStream: m.methodKind === 'server_streaming' || m.methodKind === 'bidi_streaming',
      requestSerialize: serializer(m.input) as (msg: unknown) => Buffer,
      requestDeserialize: guard === undefined ? deserializer(m.input) : guardedDeserializer(m.input, guard),
      responseSerialize: serializer(m.output) as (msg: unknown) => Buffer,
      responseDeserialize: deserializer(m.output),
      originalName: m.name,
    };
  }
  return def;
}

export function methodPath(service: DescService, method: string): string {
  return `/${service.typeName}/${method}`;
}
