// ---- Redis store ----
export {
  redisStore,
  RedisStore,
  type RedisClientLike,
  type RedisErrorPolicy,
  type RedisStoreOptions,
  type StoreErrorEvent,
} from './redis-store.js';
export { RATE_LIMIT_SCRIPT, RATE_LIMIT_SCRIPT_SHA } from './redis-script.js';
export type { LeaseOptions } from './lease-binding.js';
