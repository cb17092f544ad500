/**
 * The four algorithms as arithmetic over plain numbers. The memory store runs these functions; the Redis script
 * (`redis-script.ts`) is a line-by-line Lua transcription, so both stores take the same decisions bit for bit (the
 * differential test checks it). Keep the two in step.
 *
 * State is at most three numbers per key:
 * - `gcra`:           [tat]                 theoretical arrival time (redis-cell's GCRA)
 * - `token-bucket`:   [tokens, updatedAt]   tokens left at `updatedAt`, refilled continuously
 * - `fixed-window`:   [start, count]        window opened by the key's first request
 * - `sliding-window`: [window, prev, cur]   counts of the clock-aligned window `window` and the one before it
 */

/** The rate-limiting algorithms. `gcra` is the default: one number per key, exact, with `remaining` and retry time. */
export type Algorithm = 'gcra' | 'token-bucket' | 'sliding-window' | 'fixed-window';

/**
 * Time tolerance in ms. Emission intervals such as 1000/3 ms are not exact in binary floating point, and epoch
 * times in ms carry ~0.1 µs of rounding: without a tolerance, the third request of "3 per second" at one instant
 * could be refused by a rounding error. Decisions are exact to the microsecond.
 */
export const EPS_MS = 1e-3;

/** Tolerance on window counts (sliding-window weights are fractions). */
const EPS_COUNT = 1e-9;

/** One limit, compiled: what a store needs to decide. */
export interface LimitRule {
  /** Policy name: the header name and the store key's namespace. */
  readonly name: string;
  readonly algorithm: Algorithm;
  /** The algorithm's code in the Redis script (see `algorithms`). */
  readonly code: number;
  /** Requests (cost units) per window. */
  readonly limit: number;
  readonly windowMs: number;
  /** Most units admitted at once (`gcra`, `token-bucket`); equals `limit` for the window algorithms. */
  readonly burst: number;
  /** How long a key is refused after being limited (0: no penalty). */
  readonly blockMs: number;
}

/** The result of one evaluation, written into a reusable object so the hot path allocates nothing. */
export interface Evaluation {
  allowed: boolean;
  remaining: number;
  resetMs: number;
  retryAfterMs: number;
  /** The state to store if the decision is committed. */
  n0: number;
  n1: number;
  n2: number;
  /** How long the new state matters; ≤ 0: the key is back to its initial state and may be deleted. */
  ttlMs: number;
}

/** A fresh {@link Evaluation} to reuse. */
export function evaluation(): Evaluation {
  return { allowed: false, remaining: 0, resetMs: 0, retryAfterMs: 0, n0: 0, n1: 0, n2: 0, ttlMs: 0 };
}

/**
 * Decides a request of `cost` units at time `now` against a key's state (`has` false: the key has none) and
 * writes the outcome and the would-be new state into `out`.
 */
export type Evaluate = (
  rule: LimitRule,
  has: boolean,
  s0: number,
  s1: number,
  s2: number,
  now: number,
  cost: number,
  out: Evaluation,
) => void;

/**
 * GCRA (redis-cell): each unit advances the theoretical arrival time by one emission interval; a request
 * fits while the TAT stays within the burst tolerance of now.
 */
function gcra(
  rule: LimitRule,
  has: boolean,
  s0: number,
  _s1: number,
  _s2: number,
  now: number,
  cost: number,
  out: Evaluation,
): void {
  const interval = rule.windowMs / rule.limit;
  const tolerance = interval * rule.burst;
  const tat = has && s0 > now ? s0 : now;
  const next = tat + interval * cost;
  if (next - now <= tolerance + EPS_MS) {
    out.allowed = true;
    out.remaining = Math.max(0, Math.floor((tolerance - (next - now) + EPS_MS) / interval));
    out.resetMs = next - now;
    out.retryAfterMs = 0;
    out.n0 = next;
    out.ttlMs = next - now;
  } else {
    out.allowed = false;
    out.remaining = Math.max(0, Math.floor((tolerance - (tat - now) + EPS_MS) / interval));
    out.resetMs = tat - now;
    out.retryAfterMs = cost > rule.burst ? Infinity : next - tolerance - now;
    out.n0 = tat;
    out.ttlMs = tat - now;
  }
}

/**
 * Token bucket, continuous refill of `limit` tokens per window up to `burst`. Rates are kept as ms per token
 * (like GCRA's interval): whole-ms intervals then give exact times.
 */
function tokenBucket(
  rule: LimitRule,
  has: boolean,
  s0: number,
  s1: number,
  _s2: number,
  now: number,
  cost: number,
  out: Evaluation,
): void {
  const interval = rule.windowMs / rule.limit;
  const burst = rule.burst;
  let tokens = burst;
  if (has) {
    const elapsed = now > s1 ? now - s1 : 0;
    tokens = Math.min(burst, s0 + elapsed / interval);
  }
  if (tokens + EPS_MS / interval >= cost) {
    const left = tokens - cost;
    out.allowed = true;
    out.remaining = Math.max(0, Math.floor(left + EPS_MS / interval));
    out.resetMs = (burst - left) * interval;
    out.retryAfterMs = 0;
    out.n0 = left;
    out.ttlMs = (burst - left) * interval;
  } else {
    out.allowed = false;
    out.remaining = Math.max(0, Math.floor(tokens + EPS_MS / interval));
    out.resetMs = (burst - tokens) * interval;
    out.retryAfterMs = cost > burst ? Infinity : (cost - tokens) * interval;
    out.n0 = tokens;
    out.ttlMs = (burst - tokens) * interval;
  }
  out.n1 = now;
}

/** Fixed window opened by the key's first request (no fleet-wide reset at round clock times). */
function fixedWindow(
  rule: LimitRule,
  has: boolean,
  s0: number,
  s1: number,
  _s2: number,
  now: number,
  cost: number,
  out: Evaluation,
): void {
  const limit = rule.limit;
  const windowMs = rule.windowMs;
  let start = now;
  let count = 0;
  if (has && now < s0 + windowMs) {
    start = s0;
    count = s1;
  }
  const resetMs = start + windowMs - now;
  out.n0 = start;
  out.resetMs = resetMs;
  out.ttlMs = resetMs;
  if (count + cost <= limit + EPS_COUNT) {
    out.allowed = true;
    out.remaining = Math.max(0, Math.floor(limit - count - cost + EPS_COUNT));
    out.retryAfterMs = 0;
    out.n1 = count + cost;
  } else {
    out.allowed = false;
    out.remaining = Math.max(0, Math.floor(limit - count + EPS_COUNT));
    out.retryAfterMs = cost > limit ? Infinity : resetMs;
    out.n1 = count;
  }
}

/**
 * Sliding-window counter (Cloudflare): the previous window's count, weighted by how much of it still
 * overlaps the sliding window, plus the current window's count.
 */
function slidingWindow(
  rule: LimitRule,
  has: boolean,
  s0: number,
  s1: number,
  s2: number,
  now: number,
  cost: number,
  out: Evaluation,
): void {
  const limit = rule.limit;
  const windowMs = rule.windowMs;
  let window = Math.floor(now / windowMs);
  let prev = 0;
  let cur = 0;
  if (has) {
    if (s0 >= window) {
      window = s0; // the clock stepped back: stay in the stored window
      prev = s1;
      cur = s2;
    } else if (s0 === window - 1) {
      prev = s2;
    }
  }
  const start = window * windowMs;
  const elapsed = now > start ? now - start : 0;
  const weight = 1 - elapsed / windowMs;
  const estimate = prev * weight + cur;
  out.n0 = window;
  out.n1 = prev;
  if (estimate + cost <= limit + EPS_COUNT) {
    out.allowed = true;
    out.remaining = Math.max(0, Math.floor(limit - estimate - cost + EPS_COUNT));
    out.retryAfterMs = 0;
    out.n2 = cur + cost;
  } else {
    out.allowed = false;
    out.remaining = Math.max(0, Math.floor(limit - estimate + EPS_COUNT));
    if (cost > limit) out.retryAfterMs = Infinity;
    else if (cur + cost <= limit + EPS_COUNT) {
      // Wait until enough of the previous window has slid out.
      out.retryAfterMs = start + windowMs * (1 - (limit - cur - cost) / prev) - now;
    } else {
      // Wait for the next window, where this window's count is the one that slides out.
      out.retryAfterMs = start + windowMs + windowMs * Math.max(0, 1 - (limit - cost) / cur) - now;
    }
    out.n2 = cur;
  }
  const last = out.n2 > 0 ? start + 2 * windowMs : prev > 0 ? start + windowMs : now;
  out.resetMs = last - now;
  out.ttlMs = last - now;
}

/**
 * Gives `cost` units back to a key (a request that should not count after all) and writes the new state into
 * `out` (`n0`–`n2`, `ttlMs`; ≤ 0 means the state can be deleted). A refund never raises a key above its full
 * quota, and never reaches into an earlier window (counts must not go negative across a reset).
 * Called only for a key that has state.
 */
export type Refund = (
  rule: LimitRule,
  s0: number,
  s1: number,
  s2: number,
  now: number,
  cost: number,
  out: Evaluation,
) => void;

function gcraRefund(
  rule: LimitRule,
  s0: number,
  _s1: number,
  _s2: number,
  now: number,
  cost: number,
  out: Evaluation,
): void {
  const tat = s0 - (rule.windowMs / rule.limit) * cost;
  out.n0 = tat;
  out.ttlMs = tat - now;
}

function tokenBucketRefund(
  rule: LimitRule,
  s0: number,
  s1: number,
  _s2: number,
  now: number,
  cost: number,
  out: Evaluation,
): void {
  const interval = rule.windowMs / rule.limit;
  const elapsed = now > s1 ? now - s1 : 0;
  const tokens = Math.min(rule.burst, s0 + elapsed / interval + cost);
  out.n0 = tokens;
  out.n1 = now;
  out.ttlMs = (rule.burst - tokens) * interval;
}

function fixedWindowRefund(
  rule: LimitRule,
  s0: number,
  s1: number,
  _s2: number,
  now: number,
  cost: number,
  out: Evaluation,
): void {
  if (now >= s0 + rule.windowMs) {
    out.ttlMs = 0;
    return;
  }
  out.n0 = s0;
  out.n1 = Math.max(0, s1 - cost);
  out.ttlMs = s0 + rule.windowMs - now;
}

function slidingWindowRefund(
  rule: LimitRule,
  s0: number,
  s1: number,
  s2: number,
  now: number,
  cost: number,
  out: Evaluation,
): void {
  const windowMs = rule.windowMs;
  const window = Math.floor(now / windowMs);
  let w = s0;
  let prev = s1;
  let cur = s2;
  if (s0 < window) {
    w = window;
    prev = s0 === window - 1 ? s2 : 0;
    cur = 0;
  }
  cur = Math.max(0, cur - cost);
  out.n0 = w;
  out.n1 = prev;
  out.n2 = cur;
  const start = w * windowMs;
  out.ttlMs = (cur > 0 ? start + 2 * windowMs : prev > 0 ? start + windowMs : now) - now;
}

/** What a store needs of an algorithm. */
export interface AlgorithmSpec {
  /** The algorithm's code in the Redis script (`redis-script.ts` branches on it). */
  readonly code: number;
  /** Numbers of state per key. */
  readonly width: 1 | 2 | 3;
  /**
   * Decides a request. A store picks its limit's function once, so its hot path calls one small function V8 can
   * inline (a single four-way function was too large to inline; docs/design-notes.md).
   */
  readonly evaluate: Evaluate;
  readonly refund: Refund;
}

/** Each algorithm's code, state width, decision and refund: the one table the stores read. */
export const algorithms: Readonly<Record<Algorithm, AlgorithmSpec>> = {
  gcra: { code: 1, width: 1, evaluate: gcra, refund: gcraRefund },
  'token-bucket': { code: 2, width: 2, evaluate: tokenBucket, refund: tokenBucketRefund },
  'fixed-window': { code: 3, width: 2, evaluate: fixedWindow, refund: fixedWindowRefund },
  'sliding-window': { code: 4, width: 3, evaluate: slidingWindow, refund: slidingWindowRefund },
};
