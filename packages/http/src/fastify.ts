import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RawRequestDefaultExpression,
  RouteHandlerMethod,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import { BulwarkConfigError } from '@bulwark/core';
import type {
  Endpoint,
  Guard,
  Handler,
  Outcome,
  Reply,
  ResponseHeaders,
  RequestView,
  ResponseTransform,
  UrlRewrite,
} from './contract.js';
import { needsBody } from './exchange.js';
import { socketAddress } from './ip.js';
import { requestIdGuard, type RequestIdOptions } from './request-id.js';
import { responseSignal } from './request-signal.js';
import { NodeRequestView, PlainRequestView, isThenable, pathOf } from './request-view.js';
import { publishRefusal } from './refusal.js';
import { hasContentType, headerValue, isStream, runAfter, serializeBody } from './response.js';

class FastifyRequestView extends NodeRequestView {
  state(key: string): unknown {
    return (this.raw as Record<string, unknown>)[key];
  }
  get path(): string {
    return pathOf((this.raw as FastifyRequest).url);
  }
  get url(): string {
    return (this.raw as FastifyRequest).url;
  }
  get originalUrl(): string {
    return (this.raw as FastifyRequest).originalUrl;
  }
  get params(): Readonly<Record<string, string>> {
    return (this.raw as FastifyRequest).params as Record<string, string>;
  }
  get body(): unknown {
    return (this.raw as FastifyRequest).body;
  }
  get frameworkIp(): string {
    return socketAddress((this.raw as FastifyRequest).ip);
  }
  get route(): string | undefined {
    // The 404 handler has no route url.
    return (this.raw as FastifyRequest).routeOptions.url;
  }
}

/** Fastify hooks a guard can run in (all share the `(request, reply, done)` signature). */
export type FastifyGuardHook = 'onRequest' | 'preValidation' | 'preHandler';

const guardHooks: readonly string[] = ['onRequest', 'preValidation', 'preHandler'] satisfies FastifyGuardHook[];

/** Options for {@link toFastify}. */
export interface FastifyAdapterOptions {
  /** The plugin name Fastify reports (e.g. `'@bulwark/rate-limiter'`). */
  name: string;
  /** Hook to run the guard in. Default `'onRequest'`: before the body is read, so rejected requests cost least. */
  hook?: FastifyGuardHook;
  /** Extra request properties to declare, besides the guard's own `stateKeys`. */
  state?: readonly string[];
  /**
   * Makes the guard one that routes can opt out of: a route whose `config[routeConfigKey]` is `false` (e.g.
   * `config: { rateLimit: false }`) or whose `config.bulwark` is `false` (Bulwark's own endpoints: probes, `/metrics`)
   * is not guarded. Guards that only observe (request ids, metrics) leave it unset and see every request.
   */
  routeConfigKey?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The request id set by `requestId()` (with the default `requestPropertyName`). */
    requestId: string;
  }
  interface FastifyContextConfig {
    /** `false`: no Bulwark guard that can refuse a request (rate limit, load shedding, circuit shedding) runs here. */
    bulwark?: false;
  }
}

/**
 * Checks a Fastify adapter's options where a user can reach them (a package's `hook` option). A guard that needs
 * the body runs in `preValidation` by default (Fastify parses the body after `onRequest`), and `onRequest` is
 * refused for it here, at registration.
 */
function checkHook(hook: FastifyGuardHook | undefined, name: string, body = false): FastifyGuardHook {
  if (hook === undefined) return body ? 'preValidation' : 'onRequest';
  if (!guardHooks.includes(hook)) {
    throw new BulwarkConfigError(`${name} (Fastify)`, [
      { field: 'hook', message: `expected one of ${guardHooks.map((h) => `'${h}'`).join(', ')}` },
    ]);
  }
  if (body && hook === 'onRequest') {
    throw new BulwarkConfigError(`${name} (Fastify)`, [
      {
        field: 'hook',
        message:
          "this guard reads the request body, which Fastify parses after onRequest: use 'preValidation' or 'preHandler'",
      },
    ]);
  }
  return hook;
}

/** Hands a payload that is already text to Fastify as it is. */
const asIs = (payload: unknown): string => payload as string;

function sendReply(reply: FastifyReply, r: Reply): void {
  if (r.status !== 200) reply.code(r.status); // 200 is Fastify's default
  const headers = r.headers;
  if (headers !== undefined) for (const name in headers) reply.header(name, headerValue(headers[name]!));
  if (isStream(r.body)) {
    void reply.send(r.body); // Fastify streams it, and destroys it when the client goes away
    return;
  }
  const { payload, contentType } = serializeBody(r.body);
  if (hasContentType(headers)) {
    // Fastify appends "; charset=utf-8" to any JSON media type it sends as text (application/health+json,
    // application/problem+json), unless a serializer handles the payload: the type given is the type sent, as on
    // Express and Koa.
    reply.serializer(asIs);
  } else if (contentType !== undefined && typeof r.body !== 'string') {
    // A string without a type gets Fastify's own default, the same text/plain; setting it would cost a parse per reply.
    reply.header('content-type', contentType);
  }
  void reply.send(payload);
}

/** Where a plugin keeps a request's transform; `undefined` for a guard that declared no `needs: ['response']`. */
type TransformKey = symbol | undefined;

function apply(
  outcome: Outcome,
  view: RequestView,
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
  transformKey: TransformKey,
): void {
  if (outcome.kind === 'respond') {
    publishRefusal(view, outcome);
    sendReply(reply, outcome); // answering from a callback-style hook: send, and do not call done()
    return;
  }
  if (outcome.body !== undefined) request.body = outcome.body;
  if (outcome.query !== undefined) request.query = outcome.query;
  if (outcome.params !== undefined) request.params = outcome.params;
  if (outcome.transformResponse !== undefined) {
    if (transformKey === undefined) {
      done(
        new BulwarkConfigError('toFastify()', [
          { field: 'needs', message: "a guard that returns transformResponse must declare needs: ['response']" },
        ]),
      );
      return;
    }
    (request as unknown as Record<symbol, unknown>)[transformKey] = outcome.transformResponse;
  }
  const headers = outcome.headers;
  if (headers !== undefined) for (const name in headers) reply.header(name, headerValue(headers[name]!));
  const state = outcome.state;
  if (state !== undefined) for (const key in state) (request as unknown as Record<string, unknown>)[key] = state[key];
  if (outcome.after !== undefined) runAfter(reply.raw, outcome.after);
  done();
}

/**
 * Turns a neutral {@link Guard} into a Fastify 5 plugin (wrapped with `fastify-plugin`, so it applies to the
 * context it is registered in and its children). State keys are declared with `decorateRequest` at registration;
 * errors go to Fastify's error handler. A synchronous guard costs no promise.
 *
 * @example
 * ```ts
 * import { toFastify } from '@bulwark/http/fastify';
 * await app.register(toFastify(myGuard, { name: 'my-guard', hook: 'preHandler' }));
 * ```
 */
export function toFastify(guard: Guard, options: FastifyAdapterOptions): FastifyPluginCallback {
  const hook = checkHook(options.hook, options.name, needsBody(guard));
  const keys = [...(guard.stateKeys ?? []), ...(options.state ?? [])];
  const plugin: FastifyPluginCallback = (fastify, _opts, registered) => {
    for (const key of keys) if (!fastify.hasRequestDecorator(key)) fastify.decorateRequest(key, null);
    const transformKey = guard.needs?.includes('response') ? addTransformHook(fastify) : undefined;
    const run = guardHook(guard, options.routeConfigKey, transformKey);
    if (hook === 'onRequest') fastify.addHook('onRequest', run);
    else if (hook === 'preValidation') fastify.addHook('preValidation', run);
    else fastify.addHook('preHandler', run);
    registered();
  };
  return fp(plugin, { fastify: '5.x', name: options.name });
}

type GuardHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

/**
 * A guard as a callback-style Fastify hook: a synchronous guard costs no promise. With a `routeConfigKey`, routes
 * whose config opts out (or is Bulwark's own endpoint) are passed through. Fastify has hooks per context, not per
 * route, and a route's hooks run after the context's, so the check is made per request; it reads the route's config
 * through `routeOptions` (public API; one small object per read).
 */
function guardHook(guard: Guard, routeConfigKey?: string, transformKey?: TransformKey): GuardHook {
  return (request, reply, done) => {
    if (routeConfigKey !== undefined) {
      const config = request.routeOptions.config as unknown as Record<string, unknown> | undefined;
      if (config !== undefined && (config.bulwark === false || config[routeConfigKey] === false)) {
        done();
        return;
      }
    }
    let outcome: Outcome | Promise<Outcome>;
    const view = new FastifyRequestView(request, request.raw);
    try {
      outcome = guard(view);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (isThenable(outcome)) outcome.then((o) => apply(o, view, request, reply, done, transformKey)).catch(done);
    else apply(outcome, view, request, reply, done, transformKey);
  };
}

/**
 * Adds the `preSerialization` hook that applies a guard's `transformResponse` (kept on the request under a key of
 * this plugin's own), for payloads Fastify is about to serialise (objects and arrays: it calls no hook for text,
 * buffers or streams) and statuses below 400. Hooks run in registration order, so transforms apply in the order
 * their guards were registered.
 */
function addTransformHook(fastify: FastifyInstance): symbol {
  const key = Symbol('bulwark.transform');
  fastify.decorateRequest(key, null);
  fastify.addHook('preSerialization', (request, reply, payload, done) => {
    const transform = (request as unknown as Record<symbol, ResponseTransform | null>)[key];
    if (transform === null || transform === undefined || reply.statusCode >= 400) {
      done(null, payload);
      return;
    }
    let out: unknown;
    try {
      out = transform(payload, reply.statusCode, fastifyHeaders(reply));
    } catch (error) {
      done(error as Error);
      return;
    }
    done(null, out);
  });
  return key;
}

function fastifyHeaders(reply: FastifyReply): ResponseHeaders {
  return {
    get: (name) => reply.getHeader(name),
    set: (name, value) => void reply.header(name, headerValue(value)),
  };
}

/**
 * A {@link UrlRewrite} as Fastify's `rewriteUrl` option: Fastify routes before any hook runs, so a rewrite must be
 * given to the instance (`fastify({ rewriteUrl: toFastifyRewriteUrl(rewrite) })`). The guard view has no route,
 * parameters or body there; `request.originalUrl` keeps what the client sent.
 *
 * @example
 * ```ts
 * const app = Fastify({ rewriteUrl: toFastifyRewriteUrl((req) => (req.path.startsWith('/v2/') ? req.url.slice(3) : undefined)) });
 * ```
 */
export function toFastifyRewriteUrl(rewrite: UrlRewrite): (req: RawRequestDefaultExpression) => string {
  const applies = rewrite.applies;
  return (req) => {
    if (applies !== undefined && !applies(req.url ?? '/')) return req.url ?? '/';
    return rewrite(new PlainRequestView(req, req)) ?? req.url ?? '/';
  };
}

/**
 * Per-route guards, compiled at boot: `guardFor` runs once for each route added after this plugin (Fastify's
 * `onRoute`), typically reading the route's `config`, and the guard it returns is added to that route's hook. A
 * route for which it returns `undefined` pays nothing per request. The state keys the guards set must be listed in
 * `options.state` (they are declared at registration).
 *
 * @example
 * ```ts
 * await app.register(toFastifyRoutes((route) => route.config?.admin ? adminOnly : undefined, { name: 'admin' }));
 * app.get('/admin/stats', { config: { admin: true } }, handler);
 * ```
 */
export function toFastifyRoutes(
  guardFor: (route: RouteOptions) => Guard | undefined,
  options: FastifyAdapterOptions,
): FastifyPluginCallback {
  checkHook(options.hook, options.name);
  const plugin: FastifyPluginCallback = (fastify, _opts, registered) => {
    for (const key of options.state ?? []) if (!fastify.hasRequestDecorator(key)) fastify.decorateRequest(key, null);
    fastify.addHook('onRoute', (route) => {
      const guard = guardFor(route);
      if (guard === undefined) return;
      const hook = checkHook(options.hook, options.name, needsBody(guard));
      const existing = route[hook];
      const hooks = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
      (route as unknown as Record<string, unknown>)[hook] = [...hooks, guardHook(guard)];
    });
    registered();
  };
  return fp(plugin, { fastify: '5.x', name: options.name });
}

/**
 * Turns a neutral route {@link Handler} into a Fastify route handler.
 *
 * @example
 * ```ts
 * app.get('/version', toFastifyHandler(() => ({ status: 200, body: { version } })));
 * ```
 */
export function toFastifyHandler(handler: Handler): RouteHandlerMethod {
  return function (request, reply) {
    const r = handler(new FastifyRequestView(request, request.raw));
    if (isThenable(r)) {
      return r.then((value) => {
        sendReply(reply, value);
        return reply;
      });
    }
    sendReply(reply, r);
    return undefined;
  };
}

/**
 * Registers neutral {@link Endpoint}s as Fastify GET routes (HEAD comes with them). The plugin is encapsulated, so
 * `register(plugin, { prefix: '/ops' })` serves them under a prefix. A child segment arrives as a route parameter.
 * The routes carry `config: { bulwark: false }`, so guards that can refuse requests (rate limits, load shedding)
 * leave them alone wherever those are registered: a probe must answer while the service sheds load.
 *
 * @example
 * ```ts
 * await app.register(toFastifyEndpoints([{ path: '/version', handler: () => ({ status: 200, body: { version } }) }]));
 * ```
 */
export function toFastifyEndpoints(endpoints: readonly Endpoint[]): FastifyPluginCallback {
  return (fastify, _opts, registered) => {
    for (const endpoint of endpoints) {
      fastify.get(endpoint.path, { config: { bulwark: false } }, toFastifyHandler(endpoint.handler));
      const child = endpoint.child;
      if (child === undefined) continue;
      // Fastify hands the parameter over percent-decoded.
      fastify.get(
        `${endpoint.path}/:segment`,
        { config: { bulwark: false } },
        toFastifyHandler((req) => child(req, paramOf(req.raw))),
      );
    }
    registered();
  };
}

function paramOf(request: unknown): string {
  return (request as FastifyRequest<{ Params: { segment: string } }>).params.segment;
}

/**
 * Fastify plugin that gives every request an id: a well-formed incoming `X-Request-Id` is kept, anything else
 * replaced by a new UUID. The id is `request.requestId` (declared at registration) and echoed in the response.
 *
 * @example
 * ```ts
 * import { requestId } from '@bulwark/http/fastify';
 * await app.register(requestId());
 * app.get('/', (request) => ({ id: request.requestId }));
 * ```
 */
export function requestId(options?: RequestIdOptions): FastifyPluginCallback {
  return toFastify(requestIdGuard(options), { name: '@bulwark/http:request-id' });
}

/**
 * An `AbortSignal` for the request's outbound work: it aborts when the client goes away before the response is sent.
 * Takes the `reply` (Fastify's request has no public way to its response). Made on first call, then shared; pass it
 * to `policy.execute(fn, signal)` or `fetch(url, { signal })`. Fastify's own `request.signal` also aborts after a
 * complete exchange, when the request stream closes.
 *
 * @example
 * ```ts
 * import { requestSignal } from '@bulwark/http/fastify';
 * app.get('/quote', (request, reply) =>
 *   quotes.execute(({ signal }) => fetch(QUOTES_URL, { signal }).then((r) => r.json()), requestSignal(reply)));
 * ```
 */
export function requestSignal(reply: FastifyReply): AbortSignal {
  return responseSignal(reply.raw);
}
