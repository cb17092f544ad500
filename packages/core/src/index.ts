// The public, semver-stable surface of @bulwark/core. Building blocks for Bulwark's own packages (the policy-run
// protocol, option schemas, emitters, timer queues) live at `@bulwark/core/internal`.

// ---- Policy kernel ----
export type { CallOutcome, ExecuteContext, Policy, PolicyFn } from './policy.js';
export { handleAll, handleResult, handleType, handleWhen, type FailureFilter, type OutcomeClass } from './handle.js';
export { compose, ComposedPolicy } from './compose.js';
export { callOutcomeOf, type PolicyCallEvent, type PolicyCallOutcome } from './policy-call.js';
export { noop, NoopPolicy } from './noop.js';

// ---- Policies ----
export { timeout, TimeoutPolicy, type TimeoutEvent, type TimeoutOptions, type TimeoutStrategy } from './timeout.js';
export {
  fallback,
  FallbackPolicy,
  type FallbackEvent,
  type FallbackHandler,
  type FallbackOptions,
} from './fallback.js';

// ---- Time ----
export { systemClock, type Clock } from './clock.js';

// ---- Errors ----
export {
  BulwarkConfigError,
  BulwarkError,
  isBulwarkConfigError,
  isBulwarkError,
  isTimeoutError,
  TimeoutError,
  type AdmissionGate,
  type BulwarkErrorCode,
  type BulwarkErrorOptions,
  type ConfigIssue,
} from './errors.js';

// ---- Events ----
export type { EventSource, Listener, Unsubscribe } from './emitter.js';
export { channelName } from './channel.js';
