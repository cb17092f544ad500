import { z } from 'zod';
import { functionSchema, methodsSchema, parseOptions } from '@bulwark/core/internal';
import { problemReply, problemTypes, withSkip, type Guard, type RequestView, type RespondOutcome } from '@bulwark/http';
import type { CircuitBreakerPolicy } from './circuit-breaker.js';

/** Options for the shedding middleware. */
export interface ShedWhenOpenOptions {
  /** The breaker guarding this route group. */
  breaker: CircuitBreakerPolicy;
  /** Which finished responses count as failures. Default: status ≥ 500. */
  isFailure?: (status: number) => boolean;
  /** Replaces the 503 response; gets the ms until a trial may be admitted. */
  respond?: (retryAfterMs: number) => Omit<RespondOutcome, 'kind'>;
  /** Requests for which this returns true are neither shed nor counted. */
  skip?: (req: RequestView) => boolean;
}

const optionsSchema = z
  .object({
    breaker: methodsSchema<CircuitBreakerPolicy>(['tryAcquire'], 'expected a circuitBreaker()'),
    isFailure: functionSchema().optional(),
    respond: functionSchema().optional(),
    skip: functionSchema<(req: RequestView) => boolean>().optional(),
  })
  .strict();

/**
 * The neutral shedding guard: while the breaker refuses calls, requests get 503 with `Retry-After` and an RFC 9457
 * body without reaching the route; admitted requests report their final status (5xx = failure by default; a
 * client that went away counts neither way). Mount it with `shedWhenOpen()` from `@bulwark/circuit-breaker/express`,
 * `/fastify` or `/koa`.
 *
 * @example
 * ```ts
 * import { toExpress } from '@bulwark/http/express';
 * router.use(toExpress(shedWhenOpenGuard({ breaker })));
 * ```
 */
export function shedWhenOpenGuard(options: ShedWhenOpenOptions): Guard {
  const o = parseOptions(optionsSchema, options, 'shedWhenOpen()');
  const breaker = o.breaker;
  const isFailure = options.isFailure ?? ((status: number) => status >= 500);
  const respond =
    options.respond ??
    ((retryAfterMs: number): Omit<RespondOutcome, 'kind'> =>
      problemReply(
        {
          type: problemTypes.temporaryReducedCapacity,
          title: 'Service Unavailable',
          status: 503,
          detail: 'A dependency of this route is failing; retry later.',
        },
        // An isolated circuit names no time: ask for a minute.
        { retryAfterMs: Number.isFinite(retryAfterMs) ? retryAfterMs : 60_000 },
      ));
  return withSkip(() => {
    const permit = breaker.tryAcquire();
    if (permit === undefined) return { kind: 'respond', ...respond(breaker.retryAfterMs) };
    return {
      kind: 'next',
      after: (status, aborted) => {
        if (aborted) permit.ignore();
        else if (isFailure(status)) permit.failure();
        else permit.success();
      },
    };
  }, o.skip);
}
