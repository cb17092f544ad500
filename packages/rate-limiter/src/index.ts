// ---- Limiters ----
export {
  Limiter,
  rateLimiter,
  RateLimiter,
  type ConsumeOptions,
  type RateLimitDecisionEvent,
  type RateLimitedEvent,
  type RateLimiterOptions,
} from './rate-limiter.js';
export { rateLimits, RateLimits, type RateLimitsOptions } from './rate-limits.js';
export type { Algorithm, LimitRule } from './algorithms.js';
export type { Decision } from './decision.js';

// ---- Stores ----
export { memoryStore, MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export type { LimitBinding, RateLimitStore, StoreMode, StoreResult } from './store.js';

// ---- HTTP (framework-free; mount with the /express, /fastify or /koa entry) ----
export { rateLimitGuard, type RateLimitOptions } from './rate-limit.js';
export type { RateLimitHeaders } from './headers.js';
