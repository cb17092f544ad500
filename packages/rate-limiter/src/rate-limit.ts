import { z } from 'zod';
import { functionSchema, parseOptions } from '@bulwark/core/internal';
import {
  clientIpResolver,
  ipKey,
  NEXT,
  problemReply,
  problemTypes,
  retryAfterSeconds,
  withSkip,
  type ClientIpOptions,
  type Guard,
  type Outcome,
  type Reply,
  type RequestView,
} from '@bulwark/http';
import type { Decision } from './decision.js';
import { headerWriter, type RateLimitHeaders } from './headers.js';
import { isLimiter, type Limiter, type RateLimiter } from './rate-limiter.js';
import { rateLimits } from './rate-limits.js';
import type { StoreMode } from './store.js';

/** Options for the rate-limit middleware. */
export interface RateLimitOptions<M extends StoreMode = StoreMode> {
  /** The limit(s) to apply: a `rateLimiter()` or `rateLimits([...])`. */
  limiter?: Limiter<M>;
  /** Shorthand for `limiter: rateLimits(limiters)`. */
  limiters?: readonly RateLimiter<M>[];
  /**
   * The client's key; `undefined` lets the request through unlimited. Default: the client address from the socket
   * (or from trusted proxies, see `clientIp`), IPv6 masked to its /64.
   */
  keyBy?: (req: RequestView) => string | undefined;
  /** How the default `keyBy` finds the client address. Default: the socket peer; forwarding headers ignored. */
  clientIp?: ClientIpOptions | 'framework';
  /** Prefix length for IPv6 keys in the default `keyBy`. Default 64. */
  ipv6Prefix?: number;
  /** Units a request uses. Default 1. */
  cost?: number | ((req: RequestView) => number);
  /** Requests for which this returns true are not limited (health checks, allow-lists). */
  skip?: (req: RequestView) => boolean;
  /** Which headers to send. Default `'draft-10'`. */
  headers?: RateLimitHeaders;
  /**
   * Called for every refused request. Return a reply to send instead of the default 429 problem+json (its
   * `Retry-After` and rate-limit headers are added unless it sets them), or nothing to keep the default.
   */
  onLimited?: (req: RequestView, decision: Decision) => Reply | undefined | void;
  /**
   * Decides after the response whether the request counts; when it returns false the request's units are given
   * back. For example `(status) => status >= 400` counts failed logins only.
   */
  countIf?: (status: number) => boolean;
  /** Request property (Express `res.locals`, Fastify `request`, Koa `ctx.state`) holding the decision. Default `'rateLimit'`; `false`: none. */
  stateKey?: string | false;
}

const fn = functionSchema();
const optionsSchema = z
  .object({
    limiter: z
      .custom<Limiter<StoreMode>>(isLimiter, { message: 'expected a rateLimiter() or rateLimits()' })
      .optional(),
    limiters: z.array(z.unknown()).min(1).optional(),
    keyBy: fn.optional(),
    clientIp: z.union([z.object({}).passthrough(), z.literal('framework')]).optional(),
    ipv6Prefix: z.number().int().min(1).max(128).optional(),
    cost: z.union([z.number().min(0).finite(), fn]).optional(),
    skip: functionSchema<(req: RequestView) => boolean>().optional(),
    headers: z.union([z.enum(['draft-10', 'draft-6', 'legacy']), z.literal(false)]).optional(),
    onLimited: fn.optional(),
    countIf: fn.optional(),
    stateKey: z.union([z.string().min(1), z.literal(false)]).optional(),
  })
  .strict()
  .refine((o) => (o.limiter === undefined) !== (o.limiters === undefined), {
    message: 'give exactly one of limiter or limiters',
    path: ['limiter'],
  });

function violated(d: Decision): string[] {
  return d.decisions === undefined ? [d.policy] : d.decisions.filter((x) => !x.allowed).map((x) => x.policy);
}

/** The default refusal: 429 (or 503 when a failing store refuses) with an RFC 9457 body. */
function defaultReply(d: Decision): Reply {
  // Retry-After is written with the rate-limit headers, so not here.
  if (d.error !== undefined) {
    return problemReply({
      type: problemTypes.temporaryReducedCapacity,
      title: 'Service Unavailable',
      status: 503,
      detail: 'The rate limiter cannot reach its store; retry later.',
      'violated-policies': violated(d),
    });
  }
  const policies = violated(d);
  return problemReply({
    type: problemTypes.quotaExceeded,
    title: 'Too Many Requests',
    status: 429,
    detail:
      d.retryAfterMs === Infinity
        ? `This request costs more than the ${policies.join(', ')} limit allows at once.`
        : `Rate limit ${policies.join(', ')} exceeded; retry in ${retryAfterSeconds(d.retryAfterMs)} s.`,
    'violated-policies': policies,
  });
}

/**
 * The neutral rate-limit guard: decides each request with the limiter (synchronously with a memory store: no
 * promise per request), sets the rate-limit headers, and answers refused requests with 429, `Retry-After` and a
 * problem+json body. Mount it with `rateLimit()` from `@bulwark/rate-limiter/express`, `/fastify` or `/koa`.
 *
 * @example
 * ```ts
 * import { toExpress } from '@bulwark/http/express';
 * app.use(toExpress(rateLimitGuard({ limiter: rateLimiter({ limit: 100, windowMs: 60_000 }) })));
 * ```
 */
export function rateLimitGuard<M extends StoreMode>(options: RateLimitOptions<M>): Guard {
  const o = parseOptions(optionsSchema, options, 'rateLimit()');
  const limiter: Limiter<M> = options.limiter ?? rateLimits(options.limiters!);
  const keyBy =
    options.keyBy ??
    ((): ((req: RequestView) => string) => {
      const resolve = clientIpResolver(options.clientIp);
      const ipOptions = { ipv6Prefix: o.ipv6Prefix ?? 64 };
      return (req) => ipKey(resolve(req), ipOptions);
    })();
  const costOption = options.cost ?? 1;
  const costOf = typeof costOption === 'function' ? costOption : undefined;
  const fixedCost = typeof costOption === 'number' && costOption !== 1 ? { cost: costOption } : undefined;
  const writeHeaders = headerWriter(o.headers ?? 'draft-10', limiter.rules);
  const onLimited = options.onLimited;
  const countIf = options.countIf;
  const stateKey = o.stateKey ?? 'rateLimit';
  // The default key as a plain literal: a computed key costs a keyed store per request.
  const stateOf =
    stateKey === false
      ? () => undefined
      : stateKey === 'rateLimit'
        ? (d: Decision) => ({ rateLimit: d })
        : (d: Decision) => ({ [stateKey]: d });

  const decide = (req: RequestView, key: string, cost: number, d: Decision): Outcome => {
    const headers = writeHeaders?.(d);
    if (!d.allowed) {
      const reply = (onLimited?.(req, d) as Reply | undefined) ?? defaultReply(d);
      const extra: Record<string, string | number> = { ...headers };
      if (d.retryAfterMs < Infinity) extra['retry-after'] = retryAfterSeconds(d.retryAfterMs);
      return { kind: 'respond', status: reply.status, headers: { ...extra, ...reply.headers }, body: reply.body };
    }
    return {
      kind: 'next',
      headers,
      state: stateOf(d),
      after:
        countIf === undefined
          ? undefined
          : (status) => {
              if (!countIf(status)) void limiter.refund(key, cost);
            },
    };
  };

  const guard = (req: RequestView): Outcome | Promise<Outcome> => {
    const key = keyBy(req);
    if (key === undefined) return NEXT;
    const cost = costOf === undefined ? (fixedCost?.cost ?? 1) : costOf(req);
    const result = limiter.consume(key, costOf === undefined ? fixedCost : { cost });
    if (result instanceof Promise) return result.then((d: Decision) => decide(req, key, cost, d));
    return decide(req, key, cost, result);
  };
  return withSkip(Object.assign(guard, { stateKeys: stateKey === false ? [] : [stateKey] }), o.skip);
}
