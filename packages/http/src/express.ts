import type { NextFunction, Request, RequestHandler, Response } from 'express';
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
import { bodyLeftUnparsed, needsBody, noBodyParser, nodeResponseHeaders, transformBody } from './exchange.js';
import { endpointMatcher } from './endpoints.js';
import { requestIdGuard, type RequestIdOptions } from './request-id.js';
import { socketAddress } from './ip.js';
import { responseSignal } from './request-signal.js';
import { NodeRequestView, isThenable } from './request-view.js';
import { publishRefusal } from './refusal.js';
import { runAfter, setHeaders, writeReply } from './response.js';

declare global {
  // Express's own way to type request properties (@types/express declares the global `Express` namespace).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request's id, set by `requestId()` (with the default `requestPropertyName`). */
      requestId?: string;
    }
  }
}

class ExpressRequestView extends NodeRequestView {
  state(key: string): unknown {
    return (this.raw as Request).res?.locals[key];
  }
  get path(): string {
    return (this.raw as Request).path;
  }
  get url(): string {
    const req = this.raw as Request;
    return req.baseUrl + req.url;
  }
  get originalUrl(): string {
    return (this.raw as Request).originalUrl;
  }
  get params(): Readonly<Record<string, string>> {
    return (this.raw as Request).params as Record<string, string>;
  }
  get body(): unknown {
    return (this.raw as Request).body as unknown;
  }
  get frameworkIp(): string {
    return socketAddress((this.raw as Request).ip);
  }
  get route(): string | undefined {
    const req = this.raw as Request;
    const path = (req.route as { path?: unknown } | undefined)?.path;
    return typeof path === 'string' ? req.baseUrl + path : undefined;
  }
}

const kTransforms = Symbol('bulwark.transforms');
type TransformingResponse = Response & { [kTransforms]?: ResponseTransform[] };

/**
 * Adds a transform to the response. The first one wraps this response's `res.json` (which `res.send(object)` also
 * goes through); the wrapper runs every transform added, in order, once, and only for statuses below 400.
 */
function addTransform(res: TransformingResponse, transform: ResponseTransform): void {
  const added = res[kTransforms];
  if (added !== undefined) {
    added.push(transform);
    return;
  }
  const transforms = [transform];
  res[kTransforms] = transforms;
  const json = res.json;
  res.json = function (this: Response, ...args: unknown[]) {
    res.json = json; // exactly once, whatever the route does next
    // Express 4's deprecated res.json(status, body) is passed on as it is.
    if (args.length !== 1 || this.statusCode >= 400) return json.apply(this, args as [unknown]);
    return json.call(this, transformBody(transforms, args[0], this.statusCode, nodeResponseHeaders(this)));
  } as Response['json'];
}

/** Replaces the request data the route sees with the outcome's. */
function replaceData(outcome: NextOutcome, req: Request): void {
  if (outcome.body !== undefined) req.body = outcome.body;
  // Express 5's req.query is a getter on the prototype: an own property shadows it (on Express 4 too).
  if (outcome.query !== undefined) {
    Object.defineProperty(req, 'query', { value: outcome.query, writable: true, configurable: true, enumerable: true });
  }
  if (outcome.params !== undefined) req.params = outcome.params as Request['params'];
}

function apply(
  outcome: Outcome,
  view: RequestView,
  req: Request,
  res: Response,
  next: NextFunction,
  requestKeys: readonly string[] | undefined,
): void {
  if (outcome.kind === 'respond') {
    publishRefusal(view, outcome);
    writeReply(res, outcome);
    return;
  }
  if (outcome.body !== undefined || outcome.query !== undefined || outcome.params !== undefined) {
    replaceData(outcome, req);
  }
  if (outcome.transformResponse !== undefined) addTransform(res, outcome.transformResponse);
  setHeaders(res, outcome.headers);
  const state = outcome.state;
  if (state !== undefined) {
    for (const key in state) {
      res.locals[key] = state[key];
      // The guard's declared properties are also on `req`, as Fastify decorates `request` with them.
      if (requestKeys?.includes(key) === true) (req as unknown as Record<string, unknown>)[key] = state[key];
    }
  }
  if (outcome.after !== undefined) runAfter(res, outcome.after);
  next();
}

/**
 * Mounts a neutral {@link Guard} as Express (4 or 5) middleware. State goes to `res.locals` (and the guard's
 * `stateKeys` to `req` too, where Fastify users find them on `request`); errors (thrown or
 * rejected) go to `next(err)`, so Express's error handlers see them. A synchronous guard costs no promise.
 *
 * @example
 * ```ts
 * import { toExpress } from '@bulwark/http/express';
 * app.use(toExpress((req) => (req.header('x-api-key') ? { kind: 'next' } : { kind: 'respond', status: 401 })));
 * ```
 */
export function toExpress(guard: Guard): RequestHandler {
  const requestKeys = guard.stateKeys?.length ? guard.stateKeys : undefined;
  const checkBody = needsBody(guard);
  return (req, res, next) => {
    if (checkBody && req.body === undefined && bodyLeftUnparsed(req)) {
      next(noBodyParser('toExpress()', 'express.json() or express.urlencoded()'));
      return;
    }
    let outcome: Outcome | Promise<Outcome>;
    const view = new ExpressRequestView(req, req);
    try {
      outcome = guard(view);
    } catch (error) {
      next(error);
      return;
    }
    if (isThenable(outcome)) outcome.then((o) => apply(o, view, req, res, next, requestKeys)).catch(next);
    else apply(outcome, view, req, res, next, requestKeys);
  };
}

/**
 * Mounts a {@link UrlRewrite} as Express middleware: mount it with `app.use` before the routes, and the rewritten
 * URL is what Express routes (`req.url`); `req.originalUrl` keeps what the client sent.
 *
 * @example
 * ```ts
 * import { toExpressRewrite } from '@bulwark/http/express';
 * app.use(toExpressRewrite((req) => (req.path.startsWith('/v2/') ? req.url.slice(3) : undefined)));
 * ```
 */
export function toExpressRewrite(rewrite: UrlRewrite): RequestHandler {
  const applies = rewrite.applies;
  return (req, _res, next) => {
    if (applies !== undefined && !applies(req.url)) {
      next();
      return;
    }
    let url: string | undefined;
    try {
      url = rewrite(new ExpressRequestView(req, req));
    } catch (error) {
      next(error);
      return;
    }
    if (url !== undefined) req.url = url;
    next();
  };
}

/**
 * Mounts a neutral route {@link Handler} as an Express route handler.
 *
 * @example
 * ```ts
 * app.get('/version', toExpressHandler(() => ({ status: 200, body: { version } })));
 * ```
 */
export function toExpressHandler(handler: Handler): RequestHandler {
  return (req, res, next) => runHandler(handler, req, res, next);
}

function runHandler(handler: Handler, req: Request, res: Response, next: NextFunction): void {
  let reply: Reply | Promise<Reply>;
  try {
    reply = handler(new ExpressRequestView(req, req));
  } catch (error) {
    next(error);
    return;
  }
  if (isThenable(reply)) reply.then((r) => writeReply(res, r)).catch(next);
  else writeReply(res, reply);
}

/**
 * Mounts neutral {@link Endpoint}s as one Express middleware: GET and HEAD requests to their paths are answered,
 * everything else passes through. Paths are relative to where the middleware is mounted.
 *
 * @example
 * ```ts
 * app.use(toExpressEndpoints([{ path: '/version', handler: () => ({ status: 200, body: { version } }) }]));
 * ```
 */
export function toExpressEndpoints(endpoints: readonly Endpoint[]): RequestHandler {
  const match = endpointMatcher(endpoints);
  return (req, res, next) => {
    const handler = req.method === 'GET' || req.method === 'HEAD' ? match(req.path) : undefined;
    if (handler === undefined) next();
    else runHandler(handler, req, res, next);
  };
}

/**
 * Express middleware that gives every request an id: a well-formed incoming `X-Request-Id` is kept, anything else
 * replaced by a new UUID. The id is in `res.locals.requestId` and echoed in the response header.
 *
 * @example
 * ```ts
 * import { requestId } from '@bulwark/http/express';
 * app.use(requestId());
 * app.get('/', (req, res) => res.json({ id: req.requestId }));
 * ```
 */
export function requestId(options?: RequestIdOptions): RequestHandler {
  return toExpress(requestIdGuard(options));
}

/**
 * An `AbortSignal` for the request's outbound work: it aborts when the client goes away before the response is sent.
 * Made on first call, then shared; pass it to `policy.execute(fn, signal)` or `fetch(url, { signal })`.
 *
 * @example
 * ```ts
 * import { requestSignal } from '@bulwark/http/express';
 * app.get('/quote', async (req, res) => {
 *   res.json(await quotes.execute(({ signal }) => fetch(QUOTES_URL, { signal }).then((r) => r.json()), requestSignal(req)));
 * });
 * ```
 */
export function requestSignal(req: Request): AbortSignal {
  return responseSignal(req.res!);
}
