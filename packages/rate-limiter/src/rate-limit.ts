import { z } from 'zod';
import { BulwarkConfigError } from '@bulwark/core';
import { functionSchema, parseOptions } from '@bulwark/core/internal';
import {
  cidrContains,
  clientIpResolver,
  ipKey,
  parseCidr,
  parseIp,
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

/** What `errorResponseBuilder` gets, shaped like @fastify/rate-limit's context. */
export interface RateLimitErrorContext {
  /** The status the refusal is sent with (`statusCode`). */
  readonly statusCode: number;
  /** The binding limit. */
  readonly max: number;
  /** Milliseconds until the client may retry. */
  readonly ttl: number;
  /** The same as text, e.g. `'17 seconds'`. */
  readonly after: string;
  readonly decision: Decision;
}

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
  /** Requests for which this returns true are not limited (health checks, internal callers). */
  skip?: (req: RequestView) => boolean;
  /**
   * Clients never limited: addresses and CIDR ranges (`'10.0.0.0/8'`, `'::1'`) matched against the client address
   * (resolved as `clientIp` says), or a function of the request and its key.
   */
  allowList?: readonly string[] | ((req: RequestView, key: string) => boolean);
  /** Which headers to send. Default `'draft-10'`. */
  headers?: RateLimitHeaders;
  /** Status of a refusal. Default 429. */
  statusCode?: number;
  /**
   * Body of a refusal instead of the problem+json document: a string (sent as text), an object (sent as JSON), or a
   * function of the request and the decision returning either.
   */
  message?: string | object | ((req: RequestView, decision: Decision) => string | object);
  /** Builds the refusal's body from @fastify/rate-limit's context (`statusCode`, `max`, `ttl`, `after`). */
  errorResponseBuilder?: (req: RequestView, context: RateLimitErrorContext) => object;
  /**
   * Answers a refused request: return a reply to send instead of the default (its `Retry-After` and rate-limit
   * headers are added unless it sets them), or nothing to keep the default. Also sees refusals by a failing store
   * (`decision.error`), which `message` and `statusCode` leave as 503.
   */
  handler?: (req: RequestView, decision: Decision) => Reply | undefined | void;
  /** Called for every admitted request, with its decision. */
  onExceeding?: (req: RequestView, decision: Decision) => void;
  /** Called for every refused request, with its decision (before `handler`). */
  onExceeded?: (req: RequestView, decision: Decision) => void;
  /**
   * Decides after the response whether the request counts; when it returns false the request's units are given
   * back. For example `(status) => status >= 400` counts failed logins only.
   */
  countIf?: (status: number) => boolean;
  /**
   * Request property holding the decision: `req.rateLimit` on Express (and `res.locals`), `request.rateLimit` on
   * Fastify, `ctx.state.rateLimit` on Koa. Default `'rateLimit'`; `false`: none.
   */
  requestPropertyName?: string | false;
}

type Body = string | object;

const optionsSchema = z
  .object({
    limiter: z
      .custom<Limiter<StoreMode>>(isLimiter, { message: 'expected a rateLimiter() or rateLimits()' })
      .optional(),
    limiters: z.array(z.unknown()).min(1).optional(),
    keyBy: functionSchema<(req: RequestView) => string | undefined>().optional(),
    clientIp: z.union([z.object({}).passthrough(), z.literal('framework')]).optional(),
    ipv6Prefix: z.number().int().min(1).max(128).default(64),
    cost: z.union([z.number().min(0).finite(), functionSchema<(req: RequestView) => number>()]).default(1),
    skip: functionSchema<(req: RequestView) => boolean>().optional(),
    allowList: z.union([z.array(z.string()), functionSchema<(req: RequestView, key: string) => boolean>()]).optional(),
    headers: z
      .union([z.enum(['draft-10', 'draft-8', 'draft-7', 'draft-6', 'legacy']), z.literal(false)])
      .default('draft-10'),
    statusCode: z.number().int().min(400).max(599).default(429),
    message: z
      .union([z.string(), functionSchema<(req: RequestView, decision: Decision) => Body>(), z.object({}).passthrough()])
      .optional(),
    errorResponseBuilder: functionSchema<(req: RequestView, context: RateLimitErrorContext) => object>().optional(),
    handler: functionSchema<(req: RequestView, decision: Decision) => Reply | undefined | void>().optional(),
    onExceeding: functionSchema<(req: RequestView, decision: Decision) => void>().optional(),
    onExceeded: functionSchema<(req: RequestView, decision: Decision) => void>().optional(),
    countIf: functionSchema<(status: number) => boolean>().optional(),
    requestPropertyName: z.union([z.string().min(1), z.literal(false)]).default('rateLimit'),
  })
  .strict()
  .refine((o) => (o.limiter === undefined) !== (o.limiters === undefined), {
    message: 'give exactly one of limiter or limiters',
    path: ['limiter'],
  })
  .refine((o) => o.message === undefined || o.errorResponseBuilder === undefined, {
    message: 'give at most one of message or errorResponseBuilder',
    path: ['errorResponseBuilder'],
  });

function violated(d: Decision): string[] {
  return d.decisions === undefined ? [d.policy] : d.decisions.filter((x) => !x.allowed).map((x) => x.policy);
}

/** True when a failing store refused without deciding (`onError: 'closed'`): the service, not the client, is at fault. */
function storeRefused(d: Decision): boolean {
  return d.error !== undefined && d.fallback !== true;
}

/**
 * The default refusal: `statusCode` (429) or, when a failing store refused without a fallback deciding, 503, with
 * an RFC 9457 body. A refusal by a local fallback store is a real limit: 429.
 */
function defaultReply(d: Decision, status: number): Reply {
  // Retry-After is written with the rate-limit headers, so not here.
  if (storeRefused(d)) {
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
    title: status === 429 ? 'Too Many Requests' : 'Quota Exceeded',
    status,
    detail:
      d.retryAfterMs === Infinity
        ? `This request costs more than the ${policies.join(', ')} limit allows at once.`
        : `Rate limit ${policies.join(', ')} exceeded; retry in ${retryAfterSeconds(d.retryAfterMs)} s.`,
    'violated-policies': policies,
  });
}

type O = z.output<typeof optionsSchema>;

/** The refusal's reply when no `handler` answers: the default problem, or `message` / `errorResponseBuilder`. */
function refusalBuilder(o: O): (req: RequestView, d: Decision) => Reply {
  const status = o.statusCode;
  const { message, errorResponseBuilder } = o;
  if (message === undefined && errorResponseBuilder === undefined) return (_req, d) => defaultReply(d, status);
  const body: (req: RequestView, d: Decision) => Body =
    errorResponseBuilder !== undefined
      ? (req, d) => {
          const ttl = d.retryAfterMs;
          const after = ttl === Infinity ? 'never' : `${retryAfterSeconds(ttl)} seconds`;
          return errorResponseBuilder(req, { statusCode: status, max: d.limit, ttl, after, decision: d });
        }
      : typeof message === 'function'
        ? message
        : () => message!;
  // A failing store's refusal is not the client's quota: it keeps its 503 problem.
  return (req, d) => (storeRefused(d) ? defaultReply(d, status) : { status, body: body(req, d) });
}

/** Compiles `allowList` into a test of (request, key), or undefined when there is none. */
function allowListTest(o: O): ((req: RequestView, key: string) => boolean) | undefined {
  const list = o.allowList;
  if (list === undefined || typeof list === 'function') return list;
  const ranges = list.map((entry, i) => {
    const range = parseCidr(entry);
    if (range === undefined) {
      throw new BulwarkConfigError('rateLimit()', [
        { field: `allowList.${i}`, message: `not an address or CIDR range: ${JSON.stringify(entry)}` },
      ]);
    }
    return range;
  });
  const resolve = clientIpResolver(o.clientIp);
  return (req) => {
    const ip = parseIp(resolve(req));
    return ip !== undefined && ranges.some((r) => cidrContains(r, ip));
  };
}

/** A refund that failed leaves the request counted: worth a warning, never a crash. */
function warnRefundFailed(error: unknown): void {
  process.emitWarning(`rate limit refund failed: ${error instanceof Error ? error.message : String(error)}`, {
    code: 'BULWARK_RATE_LIMIT_REFUND',
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
  const limiter = (o.limiter ?? rateLimits(o.limiters as RateLimiter<StoreMode>[])) as Limiter<M>;
  const keyBy =
    o.keyBy ??
    ((): ((req: RequestView) => string) => {
      const resolve = clientIpResolver(o.clientIp);
      const ipOptions = { ipv6Prefix: o.ipv6Prefix };
      return (req) => ipKey(resolve(req), ipOptions);
    })();
  const costOf = typeof o.cost === 'function' ? o.cost : undefined;
  const fixedCost = typeof o.cost === 'number' && o.cost !== 1 ? { cost: o.cost } : undefined;
  const writeHeaders = headerWriter(o.headers, limiter.rules);
  const { handler, onExceeding, onExceeded, countIf, requestPropertyName: property } = o;
  const refusal = refusalBuilder(o);
  const allowed = allowListTest(o);
  // The default property as a plain literal: a computed key costs a keyed store per request.
  const stateOf =
    property === false
      ? () => undefined
      : property === 'rateLimit'
        ? (d: Decision) => ({ rateLimit: d })
        : (d: Decision) => ({ [property]: d });

  const decide = (req: RequestView, key: string, cost: number, d: Decision): Outcome => {
    const headers = writeHeaders?.(d);
    if (!d.allowed) {
      onExceeded?.(req, d);
      const reply = (handler?.(req, d) as Reply | undefined) ?? refusal(req, d);
      const extra: Record<string, string | number> = { ...headers };
      if (d.retryAfterMs < Infinity) extra['retry-after'] = retryAfterSeconds(d.retryAfterMs);
      return { kind: 'respond', status: reply.status, headers: { ...extra, ...reply.headers }, body: reply.body };
    }
    onExceeding?.(req, d);
    return {
      kind: 'next',
      headers,
      state: stateOf(d),
      after:
        countIf === undefined
          ? undefined
          : (status) => {
              if (countIf(status)) return;
              // A store's refund may reject (a custom store, say): that must not become an unhandled rejection.
              const refunded = limiter.refund(key, cost) as unknown;
              if (refunded instanceof Promise) refunded.catch(warnRefundFailed);
            },
    };
  };

  const guard = (req: RequestView): Outcome | Promise<Outcome> => {
    const key = keyBy(req);
    if (key === undefined || (allowed !== undefined && allowed(req, key))) return NEXT;
    const cost = costOf === undefined ? (fixedCost?.cost ?? 1) : costOf(req);
    const result = limiter.consume(key, costOf === undefined ? fixedCost : { cost });
    if (result instanceof Promise) return result.then((d: Decision) => decide(req, key, cost, d));
    return decide(req, key, cost, result);
  };
  return withSkip(Object.assign(guard, { stateKeys: property === false ? [] : [property] }), o.skip);
}
