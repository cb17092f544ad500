// ---- Policy kernel ----
export {
  BasePolicy,
  callFunction,
  isPromiseLike,
  neverAbortedSignal,
  policyRun,
  type CallOutcome,
  type ExecuteContext,
  type Policy,
  type PolicyFn,
  type PolicyNext,
} from './policy.js';
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
export { systemClock, unrefTimer, type Clock } from './clock.js';
export { DeadlineQueue, type DeadlineEntry } from './deadline-queue.js';

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
export {
  clockSchema,
  durationMsSchema,
  functionSchema,
  maxTimerMs,
  methodsSchema,
  nameSchema,
  parseOptions,
} from './options.js';

// ---- Events ----
export { Emitter, type EventSource, type Listener, type Unsubscribe } from './emitter.js';
export { bulwarkChannel, channelName, type BulwarkChannel } from './channel.js';
export { abortSubscriberCount, subscribeAbort, unsubscribeAbort, type AbortSubscriber } from './abort-fanout.js';
