// ---- Time ----
export { VirtualClock } from '@bulwark/core/testing';
export {
  assertIdle,
  runSchedule,
  ScheduledFailure,
  type AttemptOutcome,
  type RunScheduleOptions,
  type ScheduleResult,
  type ScheduledCall,
} from './schedule.js';

// ---- Fault injection ----
export { chaos, type ChaosSwitch } from './chaos-switch.js';
export {
  FaultPolicy,
  InjectedFaultError,
  isInjectedFault,
  type FaultEvent,
  type FaultOptions,
} from './fault-policy.js';
export { faults, hang, latency, outcome } from './faults.js';
export { scripted, seededRandom } from './seeded-random.js';

// ---- Arbitraries (fast-check) ----
export {
  bulkheadOptions,
  circuitBreakerOptions,
  healthBehaviours,
  outcomeSchedule,
  rateLimiterOptions,
  requestStream,
  retryOptions,
  timeoutOptions,
  type CheckBehaviour,
  type OutcomeScheduleOptions,
  type StreamedRequest,
} from './arbitraries.js';

// ---- Reference models ----
export {
  breakerModelConfig,
  breakerOptionsFor,
  CircuitBreakerModel,
  circuitBreakerCommands,
  manualClock,
  type BreakerModelConfig,
  type BreakerUnderTest,
  type CallClass,
} from './circuit-breaker-model.js';
export {
  rateLimiterOptionsFor,
  rateLimitModel,
  type RateLimitModel,
  type RateLimitModelDecision,
  type RateLimitModelParams,
} from './rate-limit-model.js';
export {
  bulkheadModel,
  type BulkheadModelCall,
  type BulkheadModelOutcome,
  type BulkheadModelRun,
} from './bulkhead-model.js';
export { retryModel, type RetryModelRun } from './retry-model.js';

// ---- Infrastructure faults ----
export { faultProxy, type FaultProxy, type ProxyMode } from './fault-proxy.js';
export { flakyUpstream, type FlakyUpstream, type UpstreamAnswer, type UpstreamStep } from './flaky-upstream.js';
