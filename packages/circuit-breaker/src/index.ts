// ---- Policy ----
export {
  circuitBreaker,
  CircuitBreakerPolicy,
  type CircuitHold,
  type CircuitPermit,
  type CircuitState,
  type StateChangeEvent,
} from './circuit-breaker.js';
export type {
  CircuitBreakerOptions,
  CircuitBreakerSnapshot,
  FailureClassifier,
  OpenDuration,
} from './circuit-breaker-options.js';
/** How an outcome counts (from `@bulwark/core`, where the `handle…` builders live). */
export type { OutcomeClass } from '@bulwark/core';

export type { CircuitBreakerStats, LatencyStats } from './circuit-breaker-stats.js';

// ---- Windows ----
export {
  consecutive,
  countWindow,
  timeWindow,
  type CountWindowOptions,
  type Thresholds,
  type TimeWindowOptions,
  type Window,
  type WindowCounts,
  type WindowFactory,
} from './windows.js';

// ---- HTTP shedding (neutral guard; mount with ./express, ./fastify, ./koa) ----
export { shedWhenOpenGuard, type ShedWhenOpenOptions } from './shed-when-open.js';

// ---- Errors ----
export { BrokenCircuitError, isBrokenCircuitError } from './errors.js';
