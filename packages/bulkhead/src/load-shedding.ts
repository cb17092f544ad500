import { z } from 'zod';
import { functionSchema, maxTimerMs, methodsSchema, parseOptions } from '@bulwark/core/internal';
import { problemReply, problemTypes, withSkip, type Guard, type RequestView, type RespondOutcome } from '@bulwark/http';
import type { BulkheadPolicy } from './bulkhead.js';

/** Options for load-shedding middleware. */
export interface LoadSheddingOptions {
  /** The limiter requests must get a slot from: a `bulkhead()` or an `adaptiveLimit()`. */
  limiter: BulkheadPolicy;
  /** `Retry-After` on shed requests, in milliseconds (sent rounded up to whole seconds). Default 1,000. */
  retryAfterMs?: number;
  /** Which finished responses signal overload to an adaptive limit. Default: 503 and 429. */
  isDrop?: (status: number, aborted: boolean) => boolean;
  /** Replaces the 503 response. */
  respond?: () => Omit<RespondOutcome, 'kind'>;
  /** Requests for which this returns true are never shed and take no slot. */
  skip?: (req: RequestView) => boolean;
}

const optionsSchema = z
  .object({
    limiter: methodsSchema<BulkheadPolicy>(['tryAcquire'], 'expected a bulkhead() or adaptiveLimit()'),
    retryAfterMs: z.number().min(0).max(maxTimerMs).default(1_000),
    isDrop: functionSchema<(status: number, aborted: boolean) => boolean>().default(
      () => (status: number) => status === 503 || status === 429,
    ),
    respond: functionSchema<() => Omit<RespondOutcome, 'kind'>>().optional(),
    skip: functionSchema<(req: RequestView) => boolean>().optional(),
  })
  .strict();

/**
 * The neutral load-shedding guard: a request runs only if it gets a slot at once, and gives it back when the
 * response ends (or the client leaves). Shed requests get 503 with `Retry-After` and an RFC 9457 problem body.
 * Mount it with `loadShedding()` from `@bulwark/bulkhead/express`, `/fastify` or `/koa`.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * import { toExpress } from '@bulwark/http/express';
 * app.use(toExpress(loadSheddingGuard({ limiter: adaptiveLimit({ maxLimit: 200 }) })));
 * ```
 */
export function loadSheddingGuard(options: LoadSheddingOptions): Guard {
  const o = parseOptions(optionsSchema, options, 'loadShedding()');
  const isDrop = o.isDrop;
  const shed: RespondOutcome = {
    kind: 'respond',
    ...(o.respond
      ? o.respond()
      : problemReply(
          {
            type: problemTypes.temporaryReducedCapacity,
            title: 'Service Unavailable',
            status: 503,
            detail: 'Too many requests in progress; retry later.',
          },
          { retryAfterMs: o.retryAfterMs },
        )),
  };
  const limiter = o.limiter;
  return withSkip(() => {
    const permit = limiter.tryAcquire();
    if (permit === undefined) return shed;
    return { kind: 'next', after: (status, aborted) => permit.release(isDrop(status, aborted)) };
  }, o.skip);
}
