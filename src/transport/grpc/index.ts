export { GrpcServer } from './server.js';
export { GrpcInferenceClient, type RpcOptions } from './client.js';
export { decodeModelInferRequest } from './decode-request.js';
export { encodeModelInferResponse, type ModelInferResponseInit } from './encode-response.js';
export { hasTypedContents, readContents, writeContents } from './contents.js';
export { applyDeadline } from './deadline.js';
export { peerAddress } from './rpcs.js';
export { deserializer, methodPath, serializer, type MethodsOf } from './service-definition.js';
