/**
 * Plain reference rate limiters: obviously correct, slow, and independent of `@bulwark/rate-limiter`'s algorithms.
 * The bucket is exact (integer arithmetic scaled by `windowMs`), so it checks GCRA and the token bucket without
 * sharing their floating-point shortcuts.
 */

/** A limit the reference models understand. */
export interface RateLimitModelParams {
  algorithm: 'gcra' | 'token-bucket' | 'fixed-window' | 'sliding-window';
  limit: number;
  windowMs: number;
  burst: number;
}

/** A reference decision. */
export interface RateLimitModelDecision {
  allowed: boolean;
  remaining: number;
  /** Exact wait in ms when refused (before rounding up); 0 when allowed. */
  retryAfterMs: number;
}

/** A reference limiter: decide without changing anything, then commit what was allowed. */
export interface RateLimitModel {
  /** Decides without changing anything. */
  decide(key: string, cost: number, now: number): RateLimitModelDecision;
  /** Counts a request decided as allowed. */
  commit(key: string, cost: number, now: number): void;
}

/** Leaky-bucket meter with level measured in (ms × limit) units: a request of cost c needs c × windowMs units. */
function bucket(p: RateLimitModelParams): RateLimitModel {
  const capacity = p.burst * p.windowMs;
  const levels = new Map<string, { level: number; at: number }>();
  const level = (key: string, now: number): number => {
    const s = levels.get(key);
    if (s === undefined) return capacity;
    return Math.min(capacity, s.level + Math.max(0, now - s.at) * p.limit);
  };
  return {
    decide(key, cost, now) {
      const l = level(key, now);
      const need = cost * p.windowMs;
      if (l >= need) return { allowed: true, remaining: Math.floor((l - need) / p.windowMs), retryAfterMs: 0 };
      return {
        allowed: false,
        remaining: Math.floor(l / p.windowMs),
        retryAfterMs: cost > p.burst ? Infinity : (need - l) / p.limit,
      };
    },
    commit(key, cost, now) {
      levels.set(key, { level: level(key, now) - cost * p.windowMs, at: now });
    },
  };
}

/** Fixed windows, each opened by the key's first request after the previous one closed. */
function fixedWindow(p: RateLimitModelParams): RateLimitModel {
  const windows = new Map<string, { start: number; count: number }>();
  const current = (key: string, now: number) => {
    const w = windows.get(key);
    return w !== undefined && now < w.start + p.windowMs ? w : { start: now, count: 0 };
  };
  return {
    decide(key, cost, now) {
      const w = current(key, now);
      if (w.count + cost <= p.limit) return { allowed: true, remaining: p.limit - w.count - cost, retryAfterMs: 0 };
      return {
        allowed: false,
        remaining: p.limit - w.count,
        retryAfterMs: cost > p.limit ? Infinity : w.start + p.windowMs - now,
      };
    },
    commit(key, cost, now) {
      const w = current(key, now);
      windows.set(key, { start: w.start, count: w.count + cost });
    },
  };
}

/** Clock-aligned windows with every window's count kept; the estimate weighs the previous window by its overlap. */
function slidingWindow(p: RateLimitModelParams): RateLimitModel {
  const history = new Map<string, Map<number, number>>();
  const estimate = (key: string, now: number): number => {
    const counts = history.get(key) ?? new Map<number, number>();
    const w = Math.floor(now / p.windowMs);
    const weight = 1 - (now - w * p.windowMs) / p.windowMs;
    return (counts.get(w - 1) ?? 0) * weight + (counts.get(w) ?? 0);
  };
  return {
    decide(key, cost, now) {
      const e = estimate(key, now);
      if (e + cost <= p.limit + 1e-9) {
        return { allowed: true, remaining: Math.max(0, Math.floor(p.limit - e - cost + 1e-9)), retryAfterMs: 0 };
      }
      return { allowed: false, remaining: Math.max(0, Math.floor(p.limit - e + 1e-9)), retryAfterMs: NaN };
    },
    commit(key, cost, now) {
      const counts = history.get(key) ?? new Map<number, number>();
      const w = Math.floor(now / p.windowMs);
      counts.set(w, (counts.get(w) ?? 0) + cost);
      history.set(key, counts);
    },
  };
}

/**
 * The reference limiter for `p`: a leaky bucket for GCRA and the token bucket, fixed windows opened by each key's
 * first request, and clock-aligned sliding windows weighing the previous window by its overlap.
 *
 * @example
 * ```ts
 * const model = rateLimitModel({ algorithm: 'gcra', limit: 10, windowMs: 1000, burst: 10 });
 * const d = model.decide('a', 1, now);
 * if (d.allowed) model.commit('a', 1, now);
 * ```
 */
export function rateLimitModel(p: RateLimitModelParams): RateLimitModel {
  if (p.algorithm === 'fixed-window') return fixedWindow(p);
  if (p.algorithm === 'sliding-window') return slidingWindow(p);
  return bucket(p);
}

/**
 * The `rateLimiter()` options for a parameter set (burst only where the algorithm takes one).
 *
 * @example
 * ```ts
 * const limiter = rateLimiter({ ...rateLimiterOptionsFor(params), clock });
 * ```
 */
export function rateLimiterOptionsFor(p: RateLimitModelParams): {
  algorithm: RateLimitModelParams['algorithm'];
  limit: number;
  windowMs: number;
  burst?: number;
} {
  const { algorithm, limit, windowMs, burst } = p;
  return algorithm === 'gcra' || algorithm === 'token-bucket'
    ? { algorithm, limit, windowMs, burst }
    : { algorithm, limit, windowMs };
}
