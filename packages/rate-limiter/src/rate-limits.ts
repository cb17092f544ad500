import { BulwarkConfigError } from '@bulwark/core';
import { Limiter, limitNameSchema, type RateLimiter } from './rate-limiter.js';
import type { StoreMode } from './store.js';

/** Options for {@link rateLimits}. */
export interface RateLimitsOptions {
  /** Name for telemetry. Default: the limits' names joined with `+`. */
  name?: string;
}

/** Several limits on the same keys, decided as one. Create with {@link rateLimits}. */
export class RateLimits<M extends StoreMode = 'sync'> extends Limiter<M> {
  /** The limiters combined, in order. */
  readonly limiters: readonly RateLimiter<M>[];

  constructor(limiters: readonly RateLimiter<M>[], options: RateLimitsOptions = {}) {
    const fail = (field: string, message: string): never => {
      throw new BulwarkConfigError('rateLimits()', [{ field, message }]);
    };
    if (!Array.isArray(limiters) || limiters.length === 0)
      fail('limiters', 'expected a non-empty array of rateLimiter()s');
    const first = limiters[0]!;
    limiters.forEach((l, i) => {
      if (l === null || typeof l !== 'object' || !('rule' in l)) fail(`limiters.${i}`, 'expected a rateLimiter()');
      if (l.store !== first.store)
        fail(`limiters.${i}`, 'all limits must share one store (one atomic step decides them)');
      if (l.clock !== first.clock) fail(`limiters.${i}`, 'all limits must share one clock');
      if (limiters.indexOf(l) !== i) fail(`limiters.${i}`, 'the same limiter appears twice');
    });
    const name = options.name ?? limiters.map((l) => l.name).join('+');
    if (options.name !== undefined && !limitNameSchema.safeParse(options.name).success) {
      fail('name', 'use 1–100 of A–Z a–z 0–9 _ . : ~ / -');
    }
    super(
      name,
      limiters.map((l) => l.rule),
      first.store,
      first.clock,
    );
    this.limiters = limiters;
  }
}

/**
 * Decides several limits on one request in one atomic step — say 10 a minute and 50 an hour — and counts it in
 * none of them when any refuses (rate-limiter-flexible's union spends the others' points). The decision's
 * `decisions` lists each limit's; its headline fields are the binding limit's. The limiters share their state
 * with direct use of each.
 *
 * @example
 * ```ts
 * const store = memoryStore();
 * const limits = rateLimits([
 *   rateLimiter({ name: 'minute', limit: 10, windowMs: 60_000, store }),
 *   rateLimiter({ name: 'hour', limit: 50, windowMs: 3_600_000, store }),
 * ]);
 * limits.consume(userId).allowed;
 * ```
 */
export function rateLimits<M extends StoreMode>(
  limiters: readonly RateLimiter<M>[],
  options?: RateLimitsOptions,
): RateLimits<M> {
  return new RateLimits(limiters, options);
}
