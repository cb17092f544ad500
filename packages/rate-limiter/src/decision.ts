import { EPS_MS, type Evaluation, type LimitRule } from './algorithms.js';

/**
 * What a limiter decided for one request.
 *
 * @example
 * ```ts
 * const d = limiter.consume(ip);
 * if (!d.allowed) reply.status(429).header('retry-after', Math.ceil(d.retryAfterMs / 1000));
 * ```
 */
export interface Decision {
  /** True when the request fits (and, for `consume`, was counted). */
  readonly allowed: boolean;
  /** The policy's quota per window. */
  readonly limit: number;
  /** Units still available right after this decision. */
  readonly remaining: number;
  /** Milliseconds (whole, rounded up) until the key's quota is fully restored. */
  readonly resetMs: number;
  /**
   * 0 when allowed; else milliseconds (whole, rounded up) until the same request would be allowed (`Infinity`: its
   * cost exceeds the burst).
   */
  readonly retryAfterMs: number;
  /** The limit's name (the `RateLimit-Policy` item). */
  readonly policy: string;
  /** The limit's window. */
  readonly windowMs: number;
  /** For several limits decided together: each limit's decision, in order (the fields above are the binding one's). */
  readonly decisions?: readonly Decision[];
  /** Set when the store failed and the decision was taken by its `onError` policy. */
  readonly error?: unknown;
  /**
   * True when that policy is a local fallback store: the limit was still applied (per instance), so a refusal is a
   * real one (429), unlike `'closed'`, which refuses everything while the store is down (503).
   */
  readonly fallback?: boolean;
}

/** Whole ms, rounded up, ignoring sub-microsecond floating-point excess (decisions are exact to the µs). */
export function roundUpMs(ms: number): number {
  return Math.max(0, Math.ceil(ms - EPS_MS));
}

/**
 * A decision from an evaluation. Times are rounded up to whole ms: a caller waiting that long is never early, and
 * small integers are stored unboxed, so a decision is one allocation.
 */
export function toDecision(rule: LimitRule, e: Evaluation): Decision {
  return {
    allowed: e.allowed,
    limit: rule.limit,
    remaining: e.remaining,
    resetMs: roundUpMs(e.resetMs),
    retryAfterMs: roundUpMs(e.retryAfterMs),
    policy: rule.name,
    windowMs: rule.windowMs,
  };
}

/**
 * Joins the decisions of several limits on one request: allowed only if every limit allows it; the headline
 * fields are those of the binding limit — the refusing one that asks for the longest wait, or, when all allow,
 * the one with the least remaining.
 */
export function joinDecisions(decisions: readonly Decision[], error?: unknown): Decision {
  let binding = decisions[0]!;
  let allowed = binding.allowed;
  for (let i = 1; i < decisions.length; i++) {
    const d = decisions[i]!;
    if (!d.allowed) {
      if (allowed || d.retryAfterMs > binding.retryAfterMs) binding = d;
      allowed = false;
    } else if (allowed && d.remaining < binding.remaining) binding = d;
  }
  const joined = { ...binding, allowed, decisions };
  return error === undefined ? joined : { ...joined, error };
}
