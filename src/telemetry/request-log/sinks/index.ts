export { createSinks, createStreamClient, type CreateSinksOptions } from './create-sinks.js';
export { FileSink, type FileSinkOptions } from './file-sink.js';
export { RECORD_FIELD, RedisStreamSink, type RedisStreamSinkOptions } from './redis-stream-sink.js';
export { StdoutSink } from './stdout-sink.js';
