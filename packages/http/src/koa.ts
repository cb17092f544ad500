import type { Context, Middleware, Next } from 'koa';
import type {
  Endpoint,
  Guard,
  Handler,
  NextOutcome,
  Outcome,
  Reply,
  RequestView,
  ResponseTransform,
  UrlRewrite,
} from './contract.js';
import { bodyLeftUnparsed, isJsonBody, needsBody, noBodyParser, transformBody } from './exchange.js';
import { endpointMatcher } from './endpoints.js';
import { socketAddress } from './ip.js';
import { requestIdGuard, type RequestIdOptions } from './request-id.js';
import { responseSignal } from './request-signal.js';
import { NodeRequestView, isThenable } from './request-view.js';
import { publishRefusal } from './refusal.js';
import { hasContentType, headerValue, isStream, runAfter, serializeBody, setHeaders, writeStream } from './response.js';

/** What @koa/router appends to a prefix to match it and everything under it. */
const PREFIX_PATTERN = '(?:\\/|$)';

class KoaRequestView extends NodeRequestView {
  state(key: string): unknown {
    return ((this.raw as Context).state as Record<string, unknown>)[key];
  }
  get path(): string {
    return (this.raw as Context).path;
  }
  get url(): string {
    return (this.raw as Context).url;
  }
  get originalUrl(): string {
    return (this.raw as Context).originalUrl;
  }
  get params(): Readonly<Record<string, string>> | undefined {
    // Set by @koa/router on the context for route middleware.
    return (this.raw as { params?: Record<string, string> }).params;
  }
  get body(): unknown {
    // Set by @koa/bodyparser (and koa-body) on the request.
    return ((this.raw as Context).request as { body?: unknown }).body;
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
  ctx.status = reply.status;
  const headers = reply.headers;
  if (!ctx.res.headersSent) setHeaders(ctx.res, headers);
  if (isStream(reply.body)) {
    // Koa would pipe it too, but reports a client that leaves mid-stream as an application error.
    ctx.respond = false;
    writeStream(ctx.res, reply.body);
    return;
  }
  const { payload, contentType } = serializeBody(reply.body);
  // Set the type before the body, or Koa guesses one from the body.
  if (contentType !== undefined && !hasContentType(headers)) ctx.set('content-type', contentType);
  ctx.body = payload ?? '';
}

const kTransforms = Symbol('bulwark.transforms');
type TransformingContext = Context & { [kTransforms]?: ResponseTransform[] };

/** Replaces the request data the route sees with the outcome's. */
function replaceData(outcome: NextOutcome, ctx: Context): void {
  if (outcome.body !== undefined) (ctx.request as { body?: unknown }).body = outcome.body;
  // Koa's query setter would turn values into a query string (and back into strings): an own property on the
  // request shadows its getter instead, and `ctx.query` delegates to it.
  if (outcome.query !== undefined) {
    Object.defineProperty(ctx.request, 'query', {
      value: outcome.query,
      writable: true,
      configurable: true,
      enumerable: true,
    });
  }
  if (outcome.params !== undefined) (ctx as { params?: unknown }).params = outcome.params;
}

/** Runs the transforms on the body the downstream middleware left, if it is JSON data of a success response. */
function transformKoaBody(ctx: Context, transforms: readonly ResponseTransform[]): void {
  if (ctx.status >= 400 || !isJsonBody(ctx.body)) return;
  ctx.body = transformBody(transforms, ctx.body, ctx.status, {
    get: (name) => ctx.response.get(name) || undefined,
    set: (name, value) => ctx.set(name, headerValue(value)),
  });
}

function apply(outcome: Outcome, view: RequestView, ctx: TransformingContext, next: Next): Promise<void> | undefined {
  if (outcome.kind === 'respond') {
    publishRefusal(view, outcome);
    writeReply(ctx, outcome);
    return undefined;
  }
  if (outcome.body !== undefined || outcome.query !== undefined || outcome.params !== undefined) {
    replaceData(outcome, ctx);
  }
  // On the raw response, as writeReply does: Koa 3's `ctx.set` builds arrays for every call, and these values are
  // strings already. Like `ctx.set`, nothing is set once the headers went out.
  if (!ctx.res.headersSent) setHeaders(ctx.res, outcome.headers);
  const state = outcome.state;
  if (state !== undefined) for (const key in state) (ctx.state as Record<string, unknown>)[key] = state[key];
  // Koa's "after next()" runs before the body is sent and not at all if a later middleware throws, so `after`
  // listens on the raw response like the other adapters.
  if (outcome.after !== undefined) runAfter(ctx.res, outcome.after);
  const transform = outcome.transformResponse;
  if (transform !== undefined) {
    const added = ctx[kTransforms];
    if (added !== undefined) added.push(transform);
    else {
      // The first guard with a transform applies them all once the rest of the chain is done (not if it threw).
      const transforms = [transform];
      ctx[kTransforms] = transforms;
      return (next() as Promise<void>).then(() => transformKoaBody(ctx, transforms));
    }
  }
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
  const checkBody = needsBody(guard);
  return (ctx, next) => {
    if (checkBody && (ctx.request as { body?: unknown }).body === undefined && bodyLeftUnparsed(ctx.req)) {
      throw noBodyParser('toKoa()', '@koa/bodyparser');
    }
    const view = new KoaRequestView(ctx, ctx.req);
    const outcome = guard(view);
    if (isThenable(outcome)) return outcome.then((o) => apply(o, view, ctx, next));
    return apply(outcome, view, ctx, next);
  };
}

/**
 * Mounts a {@link UrlRewrite} as Koa middleware: `app.use` it before the router, and the rewritten URL is what the
 * router sees (`ctx.url`, `ctx.path`); `ctx.originalUrl` keeps what the client sent.
 *
 * @example
 * ```ts
 * import { toKoaRewrite } from '@bulwark/http/koa';
 * app.use(toKoaRewrite((req) => (req.path.startsWith('/v2/') ? req.url.slice(3) : undefined)));
 * ```
 */
export function toKoaRewrite(rewrite: UrlRewrite): Middleware {
  const applies = rewrite.applies;
  return (ctx, next) => {
    if (applies !== undefined && !applies(ctx.url)) return next();
    const url = rewrite(new KoaRequestView(ctx, ctx.req));
    if (url !== undefined) ctx.url = url;
    return next();
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
