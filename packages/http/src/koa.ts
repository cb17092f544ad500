import type { Context, Middleware, Next } from 'koa';
import type { Endpoint, Guard, Handler, Outcome, Reply } from './contract.js';
import { endpointMatcher } from './endpoints.js';
import { socketAddress } from './ip.js';
import { requestIdGuard, type RequestIdOptions } from './request-id.js';
import { responseSignal } from './request-signal.js';
import { NodeRequestView, isThenable } from './request-view.js';
import { hasContentType, headerValue, runAfter, serializeBody } from './response.js';

/** What @koa/router appends to a prefix to match it and everything under it. */
const PREFIX_PATTERN = '(?:\\/|$)';

class KoaRequestView extends NodeRequestView {
  get path(): string {
    return (this.raw as Context).path;
  }
  get url(): string {
    return (this.raw as Context).originalUrl;
  }
  get frameworkIp(): string {
    return socketAddress((this.raw as Context).ip);
  }
  get route(): string | undefined {
    // Set by @koa/router (and koa-router) on the context when a route matched. A prefixed router's own middleware
    // (`new Router({ prefix }).use(mw)`) is matched by a pattern that @koa/router 15 reports as its regex source:
    // its template is the prefix.
    const matched = (this.raw as { _matchedRoute?: unknown })._matchedRoute;
    if (typeof matched !== 'string') return undefined;
    return matched.endsWith(PREFIX_PATTERN) ? matched.slice(0, -PREFIX_PATTERN.length) || '/' : matched;
  }
}

function writeReply(ctx: Context, reply: Reply): void {
  const { payload, contentType } = serializeBody(reply.body);
  ctx.status = reply.status;
  const headers = reply.headers;
  if (headers !== undefined) for (const name in headers) ctx.set(name, headerValue(headers[name]!));
  // Set the type before the body, or Koa guesses one from the body.
  if (contentType !== undefined && !hasContentType(headers)) ctx.set('content-type', contentType);
  ctx.body = payload ?? '';
}

function apply(outcome: Outcome, ctx: Context, next: Next): Promise<void> | undefined {
  if (outcome.kind === 'respond') {
    writeReply(ctx, outcome);
    return undefined;
  }
  const headers = outcome.headers;
  if (headers !== undefined) for (const name in headers) ctx.set(name, headerValue(headers[name]!));
  const state = outcome.state;
  if (state !== undefined) for (const key in state) (ctx.state as Record<string, unknown>)[key] = state[key];
  // Koa's "after next()" runs before the body is sent and not at all if a later middleware throws, so `after`
  // listens on the raw response like the other adapters.
  if (outcome.after !== undefined) runAfter(ctx.res, outcome.after);
  return next() as Promise<void>;
}

/**
 * Mounts a neutral {@link Guard} as Koa (2 or 3) middleware. State goes to `ctx.state`; errors propagate to Koa's
 * error handling. A synchronous guard adds no promise of its own (Koa's `next()` is returned as is).
 *
 * @example
 * ```ts
 * import { toKoa } from '@bulwark/http/koa';
 * app.use(toKoa((req) => (req.method === 'TRACE' ? { kind: 'respond', status: 405 } : { kind: 'next' })));
 * ```
 */
export function toKoa(guard: Guard): Middleware {
  return (ctx, next) => {
    const outcome = guard(new KoaRequestView(ctx, ctx.req));
    if (isThenable(outcome)) return outcome.then((o) => apply(o, ctx, next));
    return apply(outcome, ctx, next);
  };
}

/**
 * Mounts a neutral route {@link Handler} as Koa middleware that always answers (route it with your router).
 *
 * @example
 * ```ts
 * router.get('/version', toKoaHandler(() => ({ status: 200, body: { version } })));
 * ```
 */
export function toKoaHandler(handler: Handler): Middleware {
  return (ctx) => runHandler(handler, ctx);
}

function runHandler(handler: Handler, ctx: Context): Promise<void> | undefined {
  const reply = handler(new KoaRequestView(ctx, ctx.req));
  if (isThenable(reply)) return reply.then((r) => writeReply(ctx, r));
  writeReply(ctx, reply);
  return undefined;
}

/**
 * Mounts neutral {@link Endpoint}s as one Koa middleware: GET and HEAD requests to their paths are answered,
 * everything else goes on to `next()`.
 *
 * @example
 * ```ts
 * app.use(toKoaEndpoints([{ path: '/version', handler: () => ({ status: 200, body: { version } }) }]));
 * ```
 */
export function toKoaEndpoints(endpoints: readonly Endpoint[]): Middleware {
  const match = endpointMatcher(endpoints);
  return (ctx, next) => {
    const handler = ctx.method === 'GET' || ctx.method === 'HEAD' ? match(ctx.path) : undefined;
    return handler === undefined ? next() : runHandler(handler, ctx);
  };
}

/**
 * Koa middleware that gives every request an id: a well-formed incoming `X-Request-Id` is kept, anything else
 * replaced by a new UUID. The id is `ctx.state.requestId` and echoed in the response header.
 *
 * @example
 * ```ts
 * import { requestId } from '@bulwark/http/koa';
 * app.use(requestId());
 * app.use((ctx) => { ctx.body = { id: ctx.state.requestId }; });
 * ```
 */
export function requestId(options?: RequestIdOptions): Middleware {
  return toKoa(requestIdGuard(options));
}

/**
 * An `AbortSignal` for the request's outbound work: it aborts when the client goes away before the response is sent.
 * Made on first call, then shared; pass it to `policy.execute(fn, signal)` or `fetch(url, { signal })`.
 *
 * @example
 * ```ts
 * import { requestSignal } from '@bulwark/http/koa';
 * router.get('/quote', async (ctx) => {
 *   ctx.body = await quotes.execute(({ signal }) => fetch(QUOTES_URL, { signal }).then((r) => r.json()), requestSignal(ctx));
 * });
 * ```
 */
export function requestSignal(ctx: Context): AbortSignal {
  return responseSignal(ctx.res);
}
