export * from './datatypes.js';
export * from './errors.js';
export * from './fixed-queue.js';
export * from './request.js';
export * from './tensor.js';
export * from './text-bytes.js';
export * from './validate.js';
