// @bulwark/core/internal: the building blocks Bulwark's packages share. Not semver-stable: anything here may change
// in any release. Applications use the root entry; this subpath exists so the packages agree on one protocol, one
// set of option schemas (zod's major version is not part of core's public API) and one timer queue.

// ---- Policy-run protocol ----
export {
  BasePolicy,
  callFunction,
  isPromiseLike,
  neverAbortedSignal,
  policyRun,
  type CallOutcome,
  type PolicyNext,
} from './policy.js';

// ---- Options ----
export {
  clockSchema,
  durationInputSchema,
  durationMsSchema,
  functionSchema,
  maxTimerMs,
  methodsSchema,
  nameSchema,
  parseOptions,
} from './options.js';

// ---- Time ----
export { unrefTimer } from './clock.js';
export { DeadlineQueue, type DeadlineEntry } from './deadline-queue.js';

// ---- Events ----
export { Emitter } from './emitter.js';
export { bulwarkChannel, type BulwarkChannel } from './channel.js';
export {
  abortSubscriberCount,
  fanoutListening,
  subscribeAbort,
  unsubscribeAbort,
  type AbortSubscriber,
} from './abort-fanout.js';
