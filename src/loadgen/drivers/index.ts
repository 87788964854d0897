export { type Driver, type Sink, socketErrorKind } from './driver.js';
export { HttpDriver, type HttpTarget } from './http.js';
export { GrpcUnaryDriver } from './grpc-unary.js';
export { GrpcStreamDriver } from './grpc-stream.js';
export { WsDriver, readAnswer } from './ws.js';
export { openChannels, statusName, unaryCall } from './grpc-wire.js';
