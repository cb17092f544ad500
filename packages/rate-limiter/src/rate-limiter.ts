import { z } from 'zod';
import { systemClock, type Clock, type Unsubscribe } from '@bulwark/core';
import { bulwarkChannel, clockSchema, durationInputSchema, Emitter, parseOptions } from '@bulwark/core/internal';
import { algorithms, type Algorithm, type LimitRule } from './algorithms.js';
import type { Decision } from './decision.js';
import { memoryStore } from './memory-store.js';
import type { LimitBinding, RateLimitStore, StoreMode, StoreResult } from './store.js';

/** Options for {@link rateLimiter}. */
export interface RateLimiterOptions<M extends StoreMode = 'sync'> {
  /** Default `'gcra'`. */
  algorithm?: Algorithm;
  /** Requests (cost units) admitted per window. */
  limit: number;
  /** The window: milliseconds, or a time string such as `'1 minute'`, `'10s'`, `'2 hours'`. */
  windowMs: number | string;
  /** `gcra` / `token-bucket` only: most requests admitted at once. Default `limit`. */
  burst?: number;
  /**
   * Penalty: once a key is refused, refuse it for this long whatever its quota says (clients that keep sending
   * after a 429). Milliseconds or a time string (`'15 minutes'`). Default 0 (none).
   */
  blockMs?: number | string;
  /** Policy name for headers, telemetry and the store key. Default `<limit>-in-<window>`, e.g. `100-in-60s`. */
  name?: string;
  /** Default: a new {@link memoryStore} (synchronous answers). */
  store?: RateLimitStore<M>;
  /** Time source for the memory store and penalties; a `VirtualClock` in tests. */
  clock?: Clock;
}

/** Per-call options of {@link RateLimiter.consume} and {@link RateLimiter.peek}. */
export interface ConsumeOptions {
  /** Units this request uses (a weight: bytes, tokens, rows). Default 1. */
  cost?: number;
}

/** A refused request, as the `onLimited` listeners and the `bulwark:rate-limiter:limited` channel see it. */
export interface RateLimitedEvent {
  /** The limiter's name. */
  readonly name: string;
  /** The key that was refused (listeners only; the channel omits it, keys can be personal data). */
  readonly key?: string;
  readonly decision: Decision;
}

/** Every decision, for telemetry: `bulwark:rate-limiter:decision` (published only while someone subscribes). */
export interface RateLimitDecisionEvent {
  readonly name: string;
  readonly allowed: boolean;
  /** Set when the store failed and its `onError` policy decided. */
  readonly storeError: boolean;
}

const limitedChannel = bulwarkChannel<RateLimitedEvent>('rate-limiter', 'limited');
const decisionChannel = bulwarkChannel<RateLimitDecisionEvent>('rate-limiter', 'decision');

/** Policy names end up in headers (sf-string) and Redis keys: keep them to a safe alphabet. */
export const limitNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:~/-]{1,100}$/, { message: 'use 1–100 of A–Z a–z 0–9 _ . : ~ / -' });

/**
 * Shortest time per unit for the algorithms that compute with it. Decisions tolerate 1 µs of floating-point error
 * (`EPS_MS`), which must stay a small fraction of a unit; and Redis time in epoch ms has a resolution of ~0.24 µs.
 * With 1e9 per minute (60 ns a unit) a burst admitted 16 extra, `remaining` exceeded the limit, and the Redis store
 * stopped counting (`tat + interval` rounded back to `tat`).
 */
const MIN_INTERVAL_MS = 0.01;

/** The algorithms that compute with a time per unit (and take a `burst`). */
function isRateAlgorithm(algorithm: Algorithm): boolean {
  return algorithm === 'gcra' || algorithm === 'token-bucket';
}

const optionsSchema = z
  .object({
    algorithm: z.enum(['gcra', 'token-bucket', 'sliding-window', 'fixed-window']).default('gcra'),
    limit: z.number().int({ message: 'expected a whole number of requests' }).min(1).max(1e9),
    windowMs: durationInputSchema.pipe(
      z.number().positive({ message: 'must be greater than 0' }).max(1e12, { message: 'must be at most 1e12 ms' }),
    ),
    burst: z.number().int({ message: 'expected a whole number of requests' }).min(1).max(1e9).optional(),
    blockMs: durationInputSchema.pipe(z.number().min(0).max(1e12)).default(0),
    name: limitNameSchema.optional(),
    store: z
      .custom<RateLimitStore>(
        (s) =>
          typeof (s as RateLimitStore | null)?.bind === 'function' &&
          ((s as RateLimitStore).mode === 'sync' || (s as RateLimitStore).mode === 'async'),
        { message: 'expected a rate-limit store (memoryStore() or redisStore())' },
      )
      .default(() => memoryStore()),
    clock: clockSchema.default(() => systemClock),
  })
  .strict()
  .refine((o) => o.burst === undefined || isRateAlgorithm(o.algorithm), {
    message: 'burst applies to the gcra and token-bucket algorithms only',
    path: ['burst'],
  })
  .refine((o) => !isRateAlgorithm(o.algorithm) || o.windowMs / o.limit >= MIN_INTERVAL_MS, {
    message:
      'gcra and token-bucket admit at most 100 units per ms of window (one per 10 µs; decisions are exact to the ' +
      'microsecond and finer steps are lost in the arithmetic): count in bigger units (`cost`), or use fixed-window ' +
      'or sliding-window',
    path: ['limit'],
  })
  .transform((o) => ({ ...o, name: o.name ?? defaultName(o.limit, o.windowMs), burst: o.burst ?? o.limit }));

function defaultName(limit: number, windowMs: number): string {
  const window = windowMs % 1000 === 0 ? `${windowMs / 1000}s` : `${windowMs}ms`;
  return `${limit}-in-${window}`;
}

function checkKey(key: unknown): void {
  if (typeof key !== 'string') throw new TypeError(`rate limit key must be a string, got ${typeof key}`);
}

function costOf(options: ConsumeOptions | undefined): number {
  if (options === undefined || options.cost === undefined) return 1;
  const cost = options.cost;
  if (!(cost >= 0 && cost < Infinity)) throw new RangeError(`cost must be a finite number ≥ 0, got ${String(cost)}`);
  return cost;
}

/**
 * What {@link RateLimiter} and {@link RateLimits} share: decisions through a store binding, events, and key/cost
 * checks. With a synchronous store (memory) every method answers with a value, with Redis with a promise.
 */
export abstract class Limiter<M extends StoreMode = 'sync'> {
  /** Name for telemetry. */
  readonly name: string;
  /** The limits decided, in order. */
  readonly rules: readonly LimitRule[];
  readonly store: RateLimitStore<M>;
  readonly clock: Clock;
  readonly #binding: LimitBinding<M>;
  readonly #limited = new Emitter<RateLimitedEvent>();

  protected constructor(name: string, rules: readonly LimitRule[], store: RateLimitStore<M>, clock: Clock) {
    this.name = name;
    this.rules = rules;
    this.store = store;
    this.clock = clock;
    this.#binding = store.bind(rules);
  }

  /**
   * Decides a request for `key` and counts it if allowed. Several limits count it only if all allow it.
   *
   * @example
   * ```ts
   * const d = limiter.consume(userId, { cost: rows.length });
   * if (!d.allowed) throw new Error(`slow down: retry in ${d.retryAfterMs} ms`);
   * ```
   */
  consume(key: string, options?: ConsumeOptions): StoreResult<M, Decision> {
    checkKey(key);
    const result = this.#binding.consume(key, costOf(options), this.clock.now());
    if (!this.#limited.active && !decisionChannel.hasSubscribers) return result;
    if (result instanceof Promise) return result.then((d) => this.#observe(key, d)) as StoreResult<M, Decision>;
    return this.#observe(key, result) as StoreResult<M, Decision>;
  }

  /** What {@link consume} would decide, without counting anything. */
  peek(key: string, options?: ConsumeOptions): StoreResult<M, Decision> {
    checkKey(key);
    return this.#binding.peek(key, costOf(options), this.clock.now());
  }

  /** Gives back `cost` units consumed earlier (a request that should not count after all). Default 1. */
  refund(key: string, cost = 1): StoreResult<M, void> {
    checkKey(key);
    return this.#binding.refund(key, costOf({ cost }), this.clock.now());
  }

  /** Forgets `key`: its counts and any penalty. */
  reset(key: string): StoreResult<M, void> {
    checkKey(key);
    return this.#binding.reset(key);
  }

  /**
   * Listens for refused requests; returns the unsubscribe function.
   *
   * @example
   * ```ts
   * limiter.onLimited(({ key, decision }) => log.warn({ key, retryAfterMs: decision.retryAfterMs }, 'limited'));
   * ```
   */
  onLimited(listener: (event: RateLimitedEvent) => void): Unsubscribe {
    return this.#limited.on(listener);
  }

  #observe(key: string, d: Decision): Decision {
    if (!d.allowed && this.#limited.size > 0) this.#limited.emit({ name: this.name, key, decision: d });
    if (!d.allowed && limitedChannel.hasSubscribers) limitedChannel.publish({ name: this.name, decision: d });
    if (decisionChannel.hasSubscribers) {
      decisionChannel.publish({ name: this.name, allowed: d.allowed, storeError: d.error !== undefined });
    }
    return d;
  }
}

const kLimiter = Symbol.for('bulwark.rate-limiter.limiter');
// The brand lives on the prototype, shared through the global symbol registry: a limiter made by the ESM build is
// recognised by the CJS build's middleware (and by another copy of the package), where `instanceof` is not.
Object.defineProperty(Limiter.prototype, kLimiter, { value: true });

/** True for a `rateLimiter()` or `rateLimits()` from any copy of this package. */
export function isLimiter(value: unknown): value is Limiter<StoreMode> {
  return typeof value === 'object' && value !== null && (value as { [kLimiter]?: unknown })[kLimiter] === true;
}

/** One limit. Create with {@link rateLimiter}. */
export class RateLimiter<M extends StoreMode = 'sync'> extends Limiter<M> {
  /** The compiled limit. */
  readonly rule: LimitRule;

  constructor(options: RateLimiterOptions<M>) {
    const o = parseOptions(optionsSchema, options, 'rateLimiter()');
    const rule: LimitRule = {
      name: o.name,
      algorithm: o.algorithm,
      code: algorithms[o.algorithm].code,
      limit: o.limit,
      windowMs: o.windowMs,
      burst: o.burst,
      blockMs: o.blockMs,
    };
    super(rule.name, [rule], o.store as RateLimitStore<M>, o.clock);
    this.rule = rule;
  }
}

/**
 * A rate limiter: `limit` requests per `windowMs` per key, decided by one of four algorithms in a memory store
 * (synchronous answers) or a Redis store (promises).
 *
 * @example
 * ```ts
 * const limiter = rateLimiter({ limit: 10, windowMs: 60_000 });          // GCRA, memory store
 * const d = limiter.consume('203.0.113.7');                              // { allowed, remaining, retryAfterMs, ... }
 * const bucket = rateLimiter({ algorithm: 'token-bucket', limit: 5, windowMs: 1_000, burst: 20 });
 * ```
 */
export function rateLimiter<M extends StoreMode = 'sync'>(options: RateLimiterOptions<M>): RateLimiter<M> {
  return new RateLimiter(options);
}
