export { HttpServer } from './server.js';
export { uwsBuild, uwsNative, uwsNotLoaded } from './uws.js';
export type { TemplatedApp, WebSocket } from './uws.js';
