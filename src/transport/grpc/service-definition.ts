/**
 * The methods of the services the server serves, built from the descriptors protoc-gen-es
 * generates (src/gen/): one per method at `/<package>.<Service>/<Method>`, messages encoded
 * and decoded with @bufbuild/protobuf. Server and client (grpc-js) share the codecs, so both
 * sides speak exactly what proto/ says. Handlers may answer plain init objects; `create()`
 * fills in the defaults.
 */
import { create, fromBinary, toBinary, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { GatewayError } from '../../core/index.js';
import type { CallMode, Method } from './call.js';

/** The methods of a generated service, keyed by their camelCase local names. */
export type MethodsOf<S> = S extends GenService<infer M extends GenServiceMethods> ? M : never;

export type InputOf<M extends GenServiceMethods, K extends keyof M> = MessageShape<M[K]['input']>;
export type OutputInitOf<M extends GenServiceMethods, K extends keyof M> = MessageInitShape<M[K]['output']>;
export type OutputOf<M extends GenServiceMethods, K extends keyof M> = MessageShape<M[K]['output']>;

/** A Buffer over the same memory (grpc-js clients want Buffers; Buffer.from(Uint8Array) would copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Encodes a message, an init object or bytes already in wire form (the ModelInfer answers
 * encode-response.ts writes itself), which pass as they are.
 */
export function serializer<D extends DescMessage>(schema: D): (msg: MessageInitShape<D> | Uint8Array) => Buffer {
  // create() returns a message of this type as it is, and completes a plain init object;
  // a Buffer (every ModelInfer answer) passes without a new view
  return (msg) => (msg instanceof Buffer ? msg : msg instanceof Uint8Array ? asBuffer(msg) : asBuffer(toBinary(schema, create(schema, msg))));
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
 * A deserializer that runs `guard` on the bytes first and never throws: a throwing decoder
 * ends the call before it reaches a handler (so no count, no log). A refused or malformed
 * message comes back empty, its GatewayError kept for the handler (refusalOf), which answers
 * and counts it.
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

/** A handler of any method kind; the server hands each the call of its method's kind. */
// `never` parameter: every handler type is assignable (parameters are contravariant)
export type AnyHandler = Method['handle'];

const MODES: Readonly<Record<string, CallMode>> = { unary: 'unary', server_streaming: 'server_streaming', bidi_streaming: 'bidi_streaming' };

/** Decodes with fromBinary; a malformed message is INVALID_ARGUMENT naming the message type. */
function plainDeserializer<D extends DescMessage>(schema: D): (buf: Buffer) => MessageShape<D> {
  return (buf) => {
    try {
      return fromBinary(schema, buf);
    } catch (e) {
      throw new GatewayError('SY_ERR_INVALID_INPUT', `${schema.name} is malformed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
}

/**
 * The methods of `service` the server serves, at `/<package>.<Service>/<Method>`, with the
 * handlers keyed by each method's local (camelCase) name; a method without a handler is
 * left out (the server answers it UNIMPLEMENTED). `guards`: per method, a check of the
 * request bytes before they are decoded (see guardedDeserializer).
 */
export function serviceMethods(service: DescService, handlers: Readonly<Record<string, AnyHandler | undefined>>, guards: Readonly<Record<string, (bytes: Uint8Array) => void>> = {}): Method[] {
  const out: Method[] = [];
  for (const m of service.methods) {
    const handle = handlers[m.localName];
    if (handle === undefined) continue;
    const mode = MODES[m.methodKind];
    if (mode === undefined) throw new Error(`${service.typeName}.${m.name}: ${m.methodKind} methods are not supported by the server`);
    const guard = guards[m.localName];
    out.push({
      path: methodPath(service, m.name),
      mode,
      decode: guard === undefined ? plainDeserializer(m.input) : guardedDeserializer(m.input, guard),
      encode: serializer(m.output) as (msg: unknown) => Uint8Array,
      handle,
    });
  }
  return out;
}

export function methodPath(service: DescService, method: string): string {
  return `/${service.typeName}/${method}`;
}
