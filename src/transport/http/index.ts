export { HttpServer } from './server.js';
export { uwsNative } from './uws.js';
