import { performance } from 'node:perf_hooks';
import { bulwarkChannel } from './channel.js';
import { isBulwarkError } from './errors.js';
import {
  isPromiseLike,
  policyRun,
  type ExecuteContext,
  type PolicyFn,
  type PolicyLayer,
  type PolicyNext,
} from './run-protocol.js';

/** How a call through a policy ended, for telemetry. */
export type PolicyCallOutcome = 'success' | 'error' | 'rejected' | 'timeout';

/** One call through a policy, published on `bulwark:core:call` while someone subscribes. */
export interface PolicyCallEvent {
  /** The policy kind: `retry`, `circuit-breaker`, `bulkhead`, `timeout`, `fallback`. */
  readonly policy: string;
  readonly name: string | undefined;
  /** The policy instance (stable per policy: subscribers may key caches on it). */
  readonly source: object;
  /** `rejected`: the policy turned the call away (open circuit, full bulkhead, rate limit, retry budget). */
  readonly outcome: PolicyCallOutcome;
  readonly durationMs: number;
  readonly error?: unknown;
}

const callChannel = bulwarkChannel<PolicyCallEvent>('core', 'call');

const rejections = new Set([
  'BULWARK_CIRCUIT_OPEN',
  'BULWARK_BULKHEAD_FULL',
  'BULWARK_RATE_LIMITED',
  'BULWARK_RETRY_BUDGET',
]);

/**
 * Classifies a failed call: Bulwark timeouts and rejections by their `code`, anything else `error`.
 *
 * @example
 * ```ts
 * callOutcomeOf(new TimeoutError(100)); // 'timeout'
 * ```
 */
export function callOutcomeOf(error: unknown): PolicyCallOutcome {
  if (!isBulwarkError(error)) return 'error';
  if (error.code === 'BULWARK_TIMEOUT') return 'timeout';
  return rejections.has(error.code) ? 'rejected' : 'error';
}

/**
 * Runs one layer of a policy stack. While nobody subscribes to `bulwark:core:call` this is a direct call (one
 * `hasSubscribers` read); otherwise calls of layers that have a `policyKind` are timed and published.
 */
export function runLayer<T>(layer: PolicyLayer, fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): unknown {
  if (!callChannel.hasSubscribers || layer.policyKind === undefined) return layer[policyRun](fn, ctx, next);
  return tracedRun(layer, layer.policyKind, fn, ctx, next);
}

// Bound once: the Node 20 global `performance` is a lazy accessor (see systemClock).
const now = performance.now.bind(performance);

function tracedRun<T>(
  layer: PolicyLayer,
  policy: string,
  fn: PolicyFn<T>,
  ctx: ExecuteContext,
  next: PolicyNext,
): unknown {
  const started = now();
  let result: unknown;
  try {
    result = layer[policyRun](fn, ctx, next);
  } catch (error) {
    publishCall(layer, policy, callOutcomeOf(error), started, error);
    throw error;
  }
  if (!isPromiseLike(result)) {
    publishCall(layer, policy, 'success', started, undefined);
    return result;
  }
  return result.then(
    (value) => {
      publishCall(layer, policy, 'success', started, undefined);
      return value;
    },
    (error: unknown) => {
      publishCall(layer, policy, callOutcomeOf(error), started, error);
      throw error;
    },
  );
}

function publishCall(
  layer: PolicyLayer,
  policy: string,
  outcome: PolicyCallOutcome,
  started: number,
  error: unknown,
): void {
  // Published even if the subscriber left while the call ran: a channel without subscribers drops it.
  callChannel.publish({ policy, name: layer.name, source: layer, outcome, durationMs: now() - started, error });
}
