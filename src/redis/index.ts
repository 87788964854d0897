export { closeRedis, connectRedis, openRedis, redactUrl, roleOptions, type RedisRole } from './connections.js';
