import { z } from 'zod';
import { durationInputSchema, parseOptions } from '@bulwark/core/internal';

/** What a window has seen: calls, failures and slow calls among them. */
export interface WindowCounts {
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
}

/**
 * A sliding window of call outcomes. Every operation is O(1) whatever the window's size.
 */
export interface Window {
  /** Records one call at clock time `now`. */
  record(failed: boolean, slow: boolean, now: number): void;
  /** True when the window, at `now`, says the circuit should open. */
  shouldOpen(now: number, thresholds: Thresholds): boolean;
  /** What the window holds at `now`. */
  counts(now: number): WindowCounts;
  /** Forgets everything (on close). */
  reset(): void;
}

/**
 * Rate thresholds in basis points (1/10,000) of the window's calls: the options' fractions (0.5) as integers, so a
 * threshold is compared exactly (`0.3 * 10` is 3.0000000000000004 in floating point, and 3 failures in 10 would not
 * reach it), with products that stay small integers for V8 (parts per million overflowed them at 10,000-call
 * windows and cost ~8 % on the failure path).
 */
export interface Thresholds {
  readonly failureRateBp: number;
  readonly slowCallRateBp: number;
}

/** Makes a window for one breaker; pass one of {@link consecutive}, {@link countWindow}, {@link timeWindow}. */
export interface WindowFactory {
  readonly kind: 'consecutive' | 'count' | 'time';
  /** True if the window needs the clock to record (only time windows): others let the breaker skip reading it. */
  readonly needsTime?: boolean;
  /** A fresh, empty window for one breaker. */
  create(): Window;
}

/** Trips when either rate reaches its threshold over at least `minimumCalls` calls. */
function rateTrips(c: WindowCounts, minimumCalls: number, t: Thresholds): boolean {
  if (c.calls < minimumCalls || c.calls === 0) return false;
  return c.failures * 10_000 >= t.failureRateBp * c.calls || c.slow * 10_000 >= t.slowCallRateBp * c.calls;
}

/**
 * Opens after `n` failures in a row; a success resets the count. Rates and slow calls do not apply.
 *
 * @example
 * ```ts
 * circuitBreaker({ window: consecutive(5) });
 * ```
 */
export function consecutive(n: number): WindowFactory {
  const threshold = parseOptions(z.object({ n: z.number().int().min(1).max(1_000_000) }), { n }, 'consecutive()').n;
  return {
    kind: 'consecutive',
    create() {
      let inARow = 0;
      let calls = 0;
      return {
        record(failed) {
          calls++;
          inARow = failed ? inARow + 1 : 0;
        },
        shouldOpen: () => inARow >= threshold,
        counts: () => ({ calls, failures: inARow, slow: 0 }),
        reset() {
          inARow = 0;
          calls = 0;
        },
      };
    },
  };
}

/** Options for {@link countWindow}. */
export interface CountWindowOptions {
  /** The last `size` calls count. */
  size: number;
  /** No rate is judged before this many calls. Default `size`. */
  minimumCalls?: number;
}

/**
 * The last `size` calls (resilience4j's COUNT_BASED window): a ring buffer with running totals.
 *
 * @example
 * ```ts
 * circuitBreaker({ window: countWindow({ size: 100, minimumCalls: 20 }), failureRateThreshold: 0.5 });
 * ```
 */
export function countWindow(options: CountWindowOptions): WindowFactory {
  const o = parseOptions(
    z
      .object({ size: z.number().int().min(1).max(1_000_000), minimumCalls: z.number().int().min(1).optional() })
      .strict(),
    options,
    'countWindow()',
  );
  const minimumCalls = o.minimumCalls ?? o.size;
  return {
    kind: 'count',
    create() {
      // Bit 1: failed, bit 2: slow; one byte per call in the window.
      const ring = new Uint8Array(o.size);
      let next = 0;
      let calls = 0;
      let failures = 0;
      let slow = 0;
      return {
        record(failed, isSlow) {
          if (calls === o.size) {
            const old = ring[next]!;
            failures -= old & 1;
            slow -= (old >> 1) & 1;
          } else calls++;
          ring[next] = (failed ? 1 : 0) | (isSlow ? 2 : 0);
          failures += failed ? 1 : 0;
          slow += isSlow ? 1 : 0;
          next = next + 1 === o.size ? 0 : next + 1;
        },
        shouldOpen: (_now, t) => calls >= minimumCalls && rateTrips({ calls, failures, slow }, minimumCalls, t),
        counts: () => ({ calls, failures, slow }),
        reset() {
          ring.fill(0);
          next = calls = failures = slow = 0;
        },
      };
    },
  };
}

/** Options for {@link timeWindow}. */
export interface TimeWindowOptions {
  /**
   * Calls in the last `windowMs` count: whole seconds in ms (one bucket per second), 1,000 to 3,600,000, or a time
   * string such as `'30s'` or `'1 minute'`.
   */
  windowMs: number | string;
  /** No rate is judged before this many calls in the window. Default 1. */
  minimumCalls?: number;
}

/**
 * The calls of the last `windowMs` (resilience4j's TIME_BASED window): one bucket per second. Moving to the
 * current second clears every bucket passed over, at most all of them, so failures from before an idle gap never
 * linger.
 *
 * @example
 * ```ts
 * circuitBreaker({ window: timeWindow({ windowMs: 10_000, minimumCalls: 20 }), failureRateThreshold: 0.25 });
 * ```
 */
export function timeWindow(options: TimeWindowOptions): WindowFactory {
  const o = parseOptions(
    z
      .object({
        windowMs: durationInputSchema.pipe(
          z
            .number()
            .min(1_000, { message: 'must be at least 1,000 ms (one one-second bucket)' })
            .max(3_600_000, { message: 'must be at most 3,600,000 ms (an hour)' })
            .multipleOf(1_000, { message: 'must be whole seconds (buckets are one second), e.g. 30_000' }),
        ),
        minimumCalls: z.number().int().min(1).default(1),
      })
      .strict(),
    options,
    'timeWindow()',
  );
  const size = o.windowMs / 1_000;
  return {
    kind: 'time',
    needsTime: true,
    create() {
      const bucketCalls = new Uint32Array(size);
      const bucketFailures = new Uint32Array(size);
      const bucketSlow = new Uint32Array(size);
      let second = -Infinity; // the second the newest bucket holds
      let calls = 0;
      let failures = 0;
      let slow = 0;
      const advance = (now: number) => {
        const current = Math.floor(now / 1000);
        if (current <= second) return;
        const steps = second === -Infinity ? size : Math.min(current - second, size);
        for (let i = 1; i <= steps; i++) {
          const b = (((current - steps + i) % size) + size) % size;
          calls -= bucketCalls[b]!;
          failures -= bucketFailures[b]!;
          slow -= bucketSlow[b]!;
          bucketCalls[b] = bucketFailures[b] = bucketSlow[b] = 0;
        }
        second = current;
      };
      return {
        record(failed, isSlow, now) {
          advance(now);
          const b = ((second % size) + size) % size;
          bucketCalls[b]!++;
          calls++;
          if (failed) {
            bucketFailures[b]!++;
            failures++;
          }
          if (isSlow) {
            bucketSlow[b]!++;
            slow++;
          }
        },
        shouldOpen(now, t) {
          advance(now);
          return rateTrips({ calls, failures, slow }, o.minimumCalls, t);
        },
        counts(now) {
          advance(now);
          return { calls, failures, slow };
        },
        reset() {
          bucketCalls.fill(0);
          bucketFailures.fill(0);
          bucketSlow.fill(0);
          calls = failures = slow = 0;
        },
      };
    },
  };
}
