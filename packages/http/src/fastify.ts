import type {
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteHandlerMethod,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import { BulwarkConfigError } from '@bulwark/core';
import type { Endpoint, Guard, Handler, Outcome, Reply } from './contract.js';
import { socketAddress } from './ip.js';
import { requestIdGuard, type RequestIdOptions } from './request-id.js';
import { responseSignal } from './request-signal.js';
import { NodeRequestView, isThenable, pathOf } from './request-view.js';
import { hasContentType, headerValue, runAfter, serializeBody } from './response.js';

class FastifyRequestView extends NodeRequestView {
  get path(): string {
    return pathOf((this.raw as FastifyRequest).url);
  }
  get url(): string {
    return (this.raw as FastifyRequest).url;
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

/** Checks a Fastify adapter's options where a user can reach them (a package's `hook` option). */
function checkHook(hook: FastifyGuardHook | undefined, name: string): FastifyGuardHook {
  if (hook === undefined) return 'onRequest';
  if (guardHooks.includes(hook)) return hook;
  throw new BulwarkConfigError(`${name} (Fastify)`, [
    { field: 'hook', message: `expected one of ${guardHooks.map((h) => `'${h}'`).join(', ')}` },
  ]);
}

/** Hands a payload that is already text to Fastify as it is. */
const asIs = (payload: unknown): string => payload as string;

function sendReply(reply: FastifyReply, r: Reply): void {
  const { payload, contentType } = serializeBody(r.body);
  if (r.status !== 200) reply.code(r.status); // 200 is Fastify's default
  const headers = r.headers;
  if (headers !== undefined) for (const name in headers) reply.header(name, headerValue(headers[name]!));
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

function apply(outcome: Outcome, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (outcome.kind === 'respond') {
    sendReply(reply, outcome); // answering from a callback-style hook: send, and do not call done()
    return;
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
  const hook = checkHook(options.hook, options.name);
  const keys = [...(guard.stateKeys ?? []), ...(options.state ?? [])];
  const plugin: FastifyPluginCallback = (fastify, _opts, registered) => {
    for (const key of keys) if (!fastify.hasRequestDecorator(key)) fastify.decorateRequest(key, null);
    const run = guardHook(guard, options.routeConfigKey);
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
function guardHook(guard: Guard, routeConfigKey?: string): GuardHook {
  return (request, reply, done) => {
    if (routeConfigKey !== undefined) {
      const config = request.routeOptions.config as unknown as Record<string, unknown> | undefined;
      if (config !== undefined && (config.bulwark === false || config[routeConfigKey] === false)) {
        done();
        return;
      }
    }
    let outcome: Outcome | Promise<Outcome>;
    try {
      outcome = guard(new FastifyRequestView(request, request.raw));
    } catch (error) {
      done(error as Error);
      return;
    }
    if (isThenable(outcome)) outcome.then((o) => apply(o, request, reply, done)).catch(done);
    else apply(outcome, request, reply, done);
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
  const hook = checkHook(options.hook, options.name);
  const plugin: FastifyPluginCallback = (fastify, _opts, registered) => {
    for (const key of options.state ?? []) if (!fastify.hasRequestDecorator(key)) fastify.decorateRequest(key, null);
    fastify.addHook('onRoute', (route) => {
      const guard = guardFor(route);
      if (guard === undefined) return;
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
