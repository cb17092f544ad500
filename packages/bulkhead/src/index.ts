// ---- Policies ----
export {
  adaptiveLimit,
  bulkhead,
  BulkheadPolicy,
  type AdaptiveLimitOptions,
  type BulkheadOccupancyEvent,
  type BulkheadOptions,
  type BulkheadPermit,
  type BulkheadRejectedEvent,
  type LimitChangeEvent,
  type QueueOptions,
} from './bulkhead.js';

// ---- Limit algorithms ----
export {
  aimdLimit,
  fixedLimit,
  gradientLimit,
  type AimdOptions,
  type ConcurrencyLimit,
  type GradientOptions,
} from './limits.js';

// ---- Load shedding (neutral guard; mount with ./express, ./fastify, ./koa) ----
export { loadSheddingGuard, type LoadSheddingOptions } from './load-shedding.js';

// ---- Errors ----
export { BulkheadRejectedError, isBulkheadRejectedError, type BulkheadRejection } from './errors.js';
