import fc from 'fast-check';
import type { BulkheadOptions } from '@bulwark/bulkhead';
import { consecutive, countWindow, timeWindow, type CircuitBreakerOptions } from '@bulwark/circuit-breaker';
import type { RateLimiterOptions } from '@bulwark/rate-limiter';
import { constant, exponential, linear, type RetryOptions } from '@bulwark/retry';
import type { TimeoutStrategy } from '@bulwark/core';
import type { AttemptOutcome, ScheduledCall } from './schedule.js';

// Option arbitraries produce options every factory accepts (the package's tests build each one 200 times), with
// small numbers so generated runs stay short on a virtual clock. Add `clock` yourself.

/**
 * Valid `retry()` options: attempts, backoffs (constant, linear, exponential with each jitter), elapsed cap,
 * Retry-After on or off.
 *
 * @example
 * ```ts
 * fc.assert(fc.asyncProperty(retryOptions(), async (o) => { const policy = retry({ ...o, clock }); ... }));
 * ```
 */
export function retryOptions(): fc.Arbitrary<RetryOptions> {
  const backoff = fc.oneof(
    fc.integer({ min: 0, max: 1000 }).map((ms) => constant(ms)),
    fc
      .record({ baseMs: fc.integer({ min: 0, max: 500 }), stepMs: fc.integer({ min: 0, max: 500 }) })
      .map((o) => linear(o)),
    fc
      .record({
        baseMs: fc.integer({ min: 1, max: 500 }),
        factor: fc.integer({ min: 1, max: 4 }),
        maxMs: fc.integer({ min: 500, max: 30_000 }),
        jitter: fc.constantFrom('none', 'full', 'equal', 'decorrelated'),
      })
      .map((o) => exponential(o)),
  );
  return fc.record(
    {
      maxAttempts: fc.integer({ min: 1, max: 8 }),
      backoff,
      maxElapsedMs: fc.integer({ min: 1, max: 60_000 }),
      retryAfter: fc.boolean(),
      maxDelayMs: fc.integer({ min: 1, max: 60_000 }),
    },
    { requiredKeys: [] },
  );
}

/**
 * Valid `circuitBreaker()` options: consecutive, count and time windows, thresholds, slow calls, open time and
 * half-open settings.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(circuitBreakerOptions(), (o) => { circuitBreaker({ ...o, clock }); }));
 * ```
 */
export function circuitBreakerOptions(): fc.Arbitrary<CircuitBreakerOptions> {
  const window = fc.oneof(
    fc.integer({ min: 1, max: 20 }).map((n) => consecutive(n)),
    fc
      .record({ size: fc.integer({ min: 1, max: 50 }), minimumCalls: fc.integer({ min: 1, max: 50 }) })
      .map((o) => countWindow(o)),
    fc
      // Time windows count in one-second buckets: whole seconds only.
      .record({ seconds: fc.integer({ min: 1, max: 120 }), minimumCalls: fc.integer({ min: 1, max: 50 }) })
      .map(({ seconds, minimumCalls }) => timeWindow({ windowMs: seconds * 1000, minimumCalls })),
  );
  const halfOpen = fc
    .record({
      permittedCalls: fc.integer({ min: 1, max: 5 }),
      successThreshold: fc.integer({ min: 1, max: 5 }),
      maxHalfOpenMs: fc.integer({ min: 1, max: 60_000 }),
    })
    .map((h) => ({ ...h, successThreshold: Math.min(h.successThreshold, h.permittedCalls) }));
  return fc.record(
    {
      window,
      failureRateThreshold: fc.double({ min: 0.01, max: 1, noNaN: true }),
      slowCallDurationMs: fc.integer({ min: 1, max: 10_000 }),
      slowCallRateThreshold: fc.double({ min: 0.01, max: 1, noNaN: true }),
      openMs: fc.integer({ min: 1, max: 60_000 }),
      halfOpen,
    },
    { requiredKeys: [] },
  );
}

/**
 * Valid `bulkhead()` options.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(bulkheadOptions(), (o) => { bulkhead({ ...o, clock }); }));
 * ```
 */
export function bulkheadOptions(): fc.Arbitrary<BulkheadOptions> {
  return fc.record(
    {
      maxConcurrent: fc.integer({ min: 1, max: 64 }),
      maxQueue: fc.integer({ min: 0, max: 64 }),
      queueTimeoutMs: fc.integer({ min: 1, max: 10_000 }),
    },
    { requiredKeys: ['maxConcurrent'] },
  );
}

/**
 * Valid `rateLimiter()` options for the memory store: each algorithm, limit, window, burst, block time.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(rateLimiterOptions(), (o) => { rateLimiter({ ...o, clock }); }));
 * ```
 */
export function rateLimiterOptions(): fc.Arbitrary<RateLimiterOptions> {
  return fc
    .record({
      algorithm: fc.constantFrom('gcra', 'token-bucket', 'fixed-window', 'sliding-window'),
      limit: fc.integer({ min: 1, max: 1000 }),
      // GCRA and the token bucket admit at most 100 units per ms of window: 10 ms covers the largest limit.
      windowMs: fc.integer({ min: 10, max: 3_600_000 }),
      burst: fc.integer({ min: 1, max: 1000 }),
      blockMs: fc.option(fc.integer({ min: 1, max: 600_000 }), { nil: undefined }),
    })
    .map(({ algorithm, burst, blockMs, ...rest }) => ({
      algorithm,
      ...rest,
      ...(algorithm === 'gcra' || algorithm === 'token-bucket' ? { burst } : {}),
      ...(blockMs === undefined ? {} : { blockMs }),
    }));
}

/**
 * Valid `timeout(ms, options)` arguments.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(timeoutOptions(), ({ ms, strategy }) => { timeout(ms, { strategy, clock }); }));
 * ```
 */
export function timeoutOptions(): fc.Arbitrary<{ ms: number; strategy: TimeoutStrategy }> {
  return fc.record({
    ms: fc.integer({ min: 1, max: 60_000 }),
    strategy: fc.constantFrom<TimeoutStrategy>('cooperative', 'aggressive'),
  });
}

/** Shape of {@link outcomeSchedule}. */
export interface OutcomeScheduleOptions {
  /** Most calls (default 20). */
  maxCalls?: number;
  /** Arrivals fall in [0, horizonMs) (default 10 000). */
  horizonMs?: number;
  /** Longest time an attempt takes before it answers (default 2000: "slow"). */
  maxDelayMs?: number;
  /** Most scheduled attempts per call (default 4; later attempts succeed at once). */
  maxAttempts?: number;
  /** Include attempts that never answer (default true). */
  hang?: boolean;
}

/**
 * Schedules of calls and, per call, how each attempt ends: success, failure, slow success, "retry after" pushback,
 * or a hang. Feed them to {@link runSchedule}.
 *
 * @example
 * ```ts
 * fc.assert(fc.asyncProperty(outcomeSchedule(), async (schedule) => {
 *   const results = await runSchedule({ clock, schedule, run });
 *   expect(results.every((r) => r.status !== 'pending')).toBe(true); // a timeout ends every hang
 * }));
 * ```
 */
export function outcomeSchedule(options: OutcomeScheduleOptions = {}): fc.Arbitrary<ScheduledCall[]> {
  const { maxCalls = 20, horizonMs = 10_000, maxDelayMs = 2000, maxAttempts = 4, hang = true } = options;
  const quick = Math.max(1, Math.floor(maxDelayMs / 20));
  const attempt: fc.Arbitrary<AttemptOutcome> = fc.oneof(
    {
      arbitrary: fc.record({ kind: fc.constant('success' as const), delayMs: fc.integer({ min: 0, max: quick }) }),
      weight: 5,
    },
    {
      arbitrary: fc.record({ kind: fc.constant('failure' as const), delayMs: fc.integer({ min: 0, max: quick }) }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('success' as const),
        delayMs: fc.integer({ min: quick, max: maxDelayMs }),
      }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('retry-after' as const),
        delayMs: fc.integer({ min: 0, max: quick }),
        retryAfterMs: fc.integer({ min: 0, max: 5000 }),
      }),
      weight: 1,
    },
    ...(hang ? [{ arbitrary: fc.constant({ kind: 'hang' as const }), weight: 1 }] : []),
  );
  return fc
    .array(
      fc.record({
        at: fc.integer({ min: 0, max: horizonMs - 1 }),
        attempts: fc.array(attempt, { maxLength: maxAttempts }),
      }),
      { maxLength: maxCalls },
    )
    .map((calls) => calls.sort((a, b) => a.at - b.at));
}

/** One request of a {@link requestStream}. */
export interface StreamedRequest {
  readonly at: number;
  readonly key: string;
  readonly cost: number;
}

/**
 * Request streams for rate limits: arrival times (bursts included: many at one instant), keys and costs.
 *
 * @example
 * ```ts
 * fc.assert(fc.asyncProperty(requestStream({ keys: ['a', 'b'] }), async (stream) => { ... }));
 * ```
 */
export function requestStream(
  options: { keys?: readonly string[]; maxCost?: number; horizonMs?: number; maxLength?: number } = {},
): fc.Arbitrary<StreamedRequest[]> {
  const { keys = ['a', 'b', 'c'], maxCost = 4, horizonMs = 60_000, maxLength = 100 } = options;
  return fc
    .array(
      fc.record({
        at: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: horizonMs - 1 })),
        key: fc.constantFrom(...keys),
        cost: fc.oneof(
          { arbitrary: fc.constant(1), weight: 3 },
          { arbitrary: fc.integer({ min: 1, max: maxCost }), weight: 1 },
        ),
      }),
      { maxLength },
    )
    .map((requests) => requests.sort((a, b) => a.at - b.at));
}

/** How one run of a health check behaves. */
export interface CheckBehaviour {
  readonly result: 'pass' | 'warn' | 'fail' | 'throw' | 'hang';
  readonly latencyMs: number;
}

/**
 * Sequences of health-check behaviours (pass, warn, fail, throw, hang, with latencies), to drive a check's `run`.
 *
 * @example
 * ```ts
 * fc.property(healthBehaviours(), (plan) => { let n = 0; const run = () => behave(plan[n++]); ... });
 * ```
 */
export function healthBehaviours(
  options: { maxLength?: number; maxLatencyMs?: number } = {},
): fc.Arbitrary<CheckBehaviour[]> {
  const { maxLength = 20, maxLatencyMs = 5000 } = options;
  return fc.array(
    fc.record({
      result: fc.constantFrom('pass', 'pass', 'warn', 'fail', 'throw', 'hang'),
      latencyMs: fc.integer({ min: 0, max: maxLatencyMs }),
    }),
    { maxLength },
  );
}
