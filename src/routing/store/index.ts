export { MemoryRouteStore, type MemoryRouteStoreOptions } from './memory-store.js';
export { FileRouteStore, StateFileError, type FileRouteStoreOptions } from './file-store.js';
export { RedisRouteStore, type RedisRouteStoreOptions } from './redis-store.js';
export type { AuditEntry, CreditRecord, CreditResult, RouteRecord, RouteStore, RouteWrite, StoreListener } from './store.js';
export { createRouteStore, type CreateRouteStoreOptions } from './create.js';
