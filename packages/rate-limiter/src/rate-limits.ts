import { z } from 'zod';
import { parseOptions } from '@bulwark/core/internal';
import { Limiter, limitNameSchema, type RateLimiter } from './rate-limiter.js';
import type { RateLimitStore, StoreMode } from './store.js';

/** Options for {@link rateLimits}. */
export interface RateLimitsOptions {
  /** Name for telemetry. Default: the limits' names joined with `+`. */
  name?: string;
}

const limiterSchema = z.custom<RateLimiter<StoreMode>>((l) => typeof l === 'object' && l !== null && 'rule' in l, {
  message: 'expected a rateLimiter()',
});

const schema = z
  .object({
    limiters: z.array(limiterSchema, { message: 'expected a non-empty array of rateLimiter()s' }).min(1, {
      message: 'expected a non-empty array of rateLimiter()s',
    }),
    name: limitNameSchema.optional(),
  })
  .strict()
  .superRefine(({ limiters }, ctx) => {
    const first = limiters[0]!;
    limiters.forEach((l, i) => {
      const fail = (message: string) => ctx.addIssue({ code: 'custom', path: ['limiters', i], message });
      if (l.store !== first.store) fail('all limits must share one store (one atomic step decides them)');
      if (l.clock !== first.clock) fail('all limits must share one clock');
      if (limiters.indexOf(l) !== i) fail('the same limiter appears twice');
    });
  })
  .transform((o) => ({ ...o, name: o.name ?? o.limiters.map((l) => l.name).join('+') }));

/** Several limits on the same keys, decided as one. Create with {@link rateLimits}. */
export class RateLimits<M extends StoreMode = 'sync'> extends Limiter<M> {
  /** The limiters combined, in order. */
  readonly limiters: readonly RateLimiter<M>[];

  constructor(limiters: readonly RateLimiter<M>[], options: RateLimitsOptions = {}) {
    const o = parseOptions(schema, { ...options, limiters }, 'rateLimits()');
    const first = o.limiters[0]!;
    super(
      o.name,
      o.limiters.map((l) => l.rule),
      first.store as RateLimitStore<M>,
      first.clock,
    );
    this.limiters = limiters;
  }
}

/**
 * Decides several limits on one request in one atomic step — say 10 a minute and 50 an hour — and counts it in
 * none of them when any refuses (a refused request spends no limit's quota). The decision's
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
