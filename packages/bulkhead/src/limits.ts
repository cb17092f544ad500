import { z } from 'zod';
import { parseOptions } from '@bulwark/core/internal';

/**
 * A concurrency limit: fixed, or adapting to what calls experience. After Netflix's concurrency-limits
 * (AIMDLimit, Gradient2Limit).
 */
export interface ConcurrencyLimit {
  /** The limit now (an integer ≥ 1). */
  readonly current: number;
  /** True if `sample` can change the limit (the bulkhead then measures round-trip times). */
  readonly adaptive: boolean;
  /**
   * A call finished. `rttMs`: its duration; `inflight`: calls running when it started (itself included);
   * `dropped`: it signalled overload (a timeout, a 503...).
   */
  sample(rttMs: number, inflight: number, dropped: boolean): void;
}

/** A limit that never changes. */
export function fixedLimit(limit: number): ConcurrencyLimit {
  return { current: limit, adaptive: false, sample() {} };
}

/** Options for the AIMD algorithm. */
export interface AimdOptions {
  initialLimit?: number;
  minLimit?: number;
  maxLimit?: number;
  /** Multiplier applied on a drop, in [0.5, 1). Default 0.9. */
  backoffRatio?: number;
  /** A call slower than this counts as a drop. Default 5,000 ms. */
  timeoutMs?: number;
}

/** Options for the gradient algorithm. */
export interface GradientOptions {
  initialLimit?: number;
  minLimit?: number;
  maxLimit?: number;
  /** How fast the limit moves toward its new estimate, in (0, 1]. Default 0.2. */
  smoothing?: number;
  /** Samples the long-term (baseline) RTT average spans. Default 600. */
  longWindow?: number;
  /** Headroom the limit may grow by while latency is steady. Default 4. */
  queueSize?: number;
}

const bounds = {
  minLimit: z.number().int().min(1).default(1),
  maxLimit: z.number().int().min(1).max(100_000).default(1_000),
};
/** Checks minLimit ≤ initialLimit ≤ maxLimit, reporting it on `initialLimit`. */
function ordered(o: { minLimit: number; maxLimit: number; initialLimit: number }): boolean {
  return o.minLimit <= o.initialLimit && o.initialLimit <= o.maxLimit;
}
const orderedMessage = { message: 'needs minLimit ≤ initialLimit ≤ maxLimit', path: ['initialLimit'] };

/**
 * Loss-based: +1 while calls keep at least half the limit busy and none drop; ×`backoffRatio` on a drop.
 *
 * @example
 * ```ts
 * const limit = aimdLimit({ initialLimit: 20, minLimit: 5, maxLimit: 200 });
 * ```
 */
export function aimdLimit(options: AimdOptions = {}): ConcurrencyLimit {
  const o = parseOptions(
    z
      .object({
        ...bounds,
        initialLimit: z.number().int().min(1).default(10),
        backoffRatio: z.number().min(0.5).lt(1).default(0.9),
        timeoutMs: z.number().positive().default(5_000),
      })
      .strict()
      .refine(ordered, orderedMessage),
    options,
    'adaptiveLimit()',
  );
  let limit = o.initialLimit;
  return {
    adaptive: true,
    get current() {
      return limit;
    },
    sample(rttMs, inflight, dropped) {
      if (dropped || rttMs > o.timeoutMs) {
        limit = Math.max(o.minLimit, Math.min(limit - 1, Math.floor(limit * o.backoffRatio)));
      } else if (inflight * 2 >= limit) {
        limit = Math.min(o.maxLimit, limit + 1);
      }
    },
  };
}

/**
 * Latency-based (Netflix's Gradient2): compares a long-term average RTT with the latest one. While they agree the
 * limit grows by `queueSize`; when RTT rises the limit shrinks in proportion (at most halving per step), smoothed.
 * Drops shrink it as a doubled RTT would.
 *
 * @example
 * ```ts
 * const limit = gradientLimit({ initialLimit: 20, minLimit: 5, maxLimit: 500 });
 * ```
 */
export function gradientLimit(options: GradientOptions = {}): ConcurrencyLimit {
  const o = parseOptions(
    z
      .object({
        ...bounds,
        initialLimit: z.number().int().min(1).default(20),
        smoothing: z.number().gt(0).max(1).default(0.2),
        longWindow: z.number().int().min(1).max(100_000).default(600),
        queueSize: z.number().min(0).default(4),
      })
      .strict()
      .refine(ordered, orderedMessage),
    options,
    'adaptiveLimit()',
  );
  let estimate = o.initialLimit;
  let longRtt = 0;
  let samples = 0;
  const warmup = 10;
  const factor = 2 / (o.longWindow + 1);
  return {
    adaptive: true,
    get current() {
      return Math.max(1, Math.floor(estimate));
    },
    sample(rttMs, inflight, dropped) {
      const shortRtt = Math.max(rttMs, 1e-3) * (dropped ? 2 : 1);
      // Long-term RTT: a plain average while warming up, then an exponential moving average.
      samples++;
      longRtt =
        samples <= warmup ? longRtt + (shortRtt - longRtt) / samples : longRtt * (1 - factor) + shortRtt * factor;
      // Latency back to normal after a long overload: let the baseline catch up faster.
      if (longRtt / shortRtt > 2) longRtt *= 0.9;
      // App-limited: too few calls in flight to learn anything about the limit.
      if (inflight < estimate / 2) return;
      const gradient = Math.max(0.5, Math.min(1, longRtt / shortRtt));
      const target = estimate * gradient + o.queueSize;
      estimate = Math.max(o.minLimit, Math.min(o.maxLimit, estimate * (1 - o.smoothing) + target * o.smoothing));
    },
  };
}
