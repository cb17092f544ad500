/**
 * The neutral HTTP contract. A feature package writes one `Guard` (or route `Handler`) against these types; the
 * adapters in `@bulwark/http/express`, `/fastify` and `/koa` are the only code that knows a framework.
 */

/** A framework's request, seen the same way everywhere. Fields are computed on first read. */
export interface RequestView {
  /** Upper-case method, e.g. `GET`. */
  readonly method: string;
  /** Path without the query string, as the framework routes it (Express: relative to the mount point). */
  readonly path: string;
  /** Path and query string being routed: after any rewrite (`toExpressRewrite` & co.). */
  readonly url: string;
  /** Path and query string as the client sent them, before any rewrite. */
  readonly originalUrl: string;
  /**
   * The query string's parameters, parsed on first read from `url` (`URLSearchParams`: percent-decoded, `+` as a
   * space, malformed escapes kept as written); a repeated key gives an array. An object without a prototype.
   */
  readonly query: QueryValues;
  /**
   * The matched route's parameters, where the framework knows them when the guard runs: Express route-level
   * middleware (`app.get('/users/:id', mw, …)`; app-level middleware sees `{}`), Fastify (routing precedes every
   * hook), Koa with `@koa/router` (route middleware). `undefined` where the framework has none (Koa without a router).
   */
  readonly params: Readonly<Record<string, string>> | undefined;
  /**
   * The request body as the framework's parser left it: `express.json()` / `urlencoded()`, Fastify's own parsers
   * (from `preValidation` on: declare `needs: ['body']`), `@koa/bodyparser`. `undefined` when no parser ran: it is
   * never parsed a second time here.
   */
  readonly body: unknown;
  /** A request header by lower-case name; repeated headers joined with `, `. */
  header(name: string): string | undefined;
  /** The socket peer's address (IPv4-mapped IPv6 as IPv4). Forwarding headers are not consulted: see `clientIp`. */
  readonly ip: string;
  /**
   * The client address as the framework resolves it, under the proxy trust the user gave the framework (Express
   * `trust proxy`, Fastify `trustProxy`, Koa `app.proxy`); the socket address when none was given. Read only when
   * asked for with `clientIp: 'framework'`.
   */
  readonly frameworkIp: string;
  /** The framework's own request object: Express `req`, Fastify `request`, Koa `ctx`. */
  readonly raw: unknown;
  /**
   * The matched route's template (`/users/:id`), known once routing has happened: read it in `after`. `undefined`
   * when no route matched, or the router does not say (Koa without `@koa/router`).
   */
  readonly route: string | undefined;
  /**
   * A value an earlier guard set as state (`requestId` from `requestId()`, say), wherever this framework keeps it:
   * Express `res.locals`, Fastify `request`, Koa `ctx.state`. `undefined` before routing state exists (a rewrite).
   */
  state(key: string): unknown;
}

/** Query parameters: one string per key, or an array for a repeated key. */
export type QueryValues = Readonly<Record<string, string | readonly string[]>>;

/** The response's headers as a transform sees them, on every framework. */
export interface ResponseHeaders {
  /** A header of the response as set so far. */
  get(name: string): string | number | readonly string[] | undefined;
  /** Sets a header of the response. */
  set(name: string, value: string | number | readonly string[]): void;
}

/**
 * Rewrites a successful JSON response's body before it is serialised: returns the body to send. `status` is the
 * response's status (always < 400: error responses are never transformed).
 */
export type ResponseTransform = (body: unknown, status: number, headers: ResponseHeaders) => unknown;

/**
 * A rewrite of the request URL before routing (`/v2/users` → `/users`): the new path and query, or `undefined` to
 * leave it. The original stays readable as `originalUrl`. Mount with `toExpressRewrite`, `toKoaRewrite`, or give
 * `toFastifyRewriteUrl(rewrite)` to `fastify({ rewriteUrl })`.
 */
export interface UrlRewrite {
  (req: RequestView): string | undefined;
  /**
   * Optional: false when the raw URL cannot be rewritten (no version prefix, say), so the adapter skips building
   * a request view for it. Must never return false for a URL the rewrite would change.
   */
  readonly applies?: (url: string) => boolean;
}

/** Response headers an outcome sets. Numbers are written as decimal text; arrays as repeated headers. */
export type OutcomeHeaders = Readonly<Record<string, string | number | readonly string[]>>;

/** A response to send: status, headers, and a body that is text, JSON-serialisable data, or nothing. */
export interface Reply {
  readonly status: number;
  readonly headers?: OutcomeHeaders;
  /**
   * A string is sent as `text/plain` unless a content type is set; a Node `Readable` is streamed as it is (set the
   * content type; it is destroyed if the client goes away first: server-sent events, downloads); anything else (but
   * `undefined`) as JSON.
   */
  readonly body?: unknown;
}

/** Let the request continue, optionally decorating it. */
export interface NextOutcome {
  readonly kind: 'next';
  /** Headers to set on the response now (the route may still override them). */
  readonly headers?: OutcomeHeaders;
  /** Values for the route: Express `res.locals[key]`, Fastify `request[key]`, Koa `ctx.state[key]`. */
  readonly state?: Readonly<Record<string, unknown>>;
  /**
   * Runs exactly once when the exchange ends, with the final status. `aborted` is true when the client went away
   * before the response was fully sent.
   */
  readonly after?: (status: number, aborted: boolean) => void;
  /** Replaces the request body the route sees (a validated or sanitised one). `undefined` leaves it. */
  readonly body?: unknown;
  /** Replaces the query the route sees (Express `req.query`, Fastify `request.query`, Koa `ctx.query`). */
  readonly query?: Readonly<Record<string, unknown>>;
  /** Replaces the route parameters the route sees (Express: only from route-level middleware). */
  readonly params?: Readonly<Record<string, unknown>>;
  /**
   * Transforms the route's JSON response before serialisation, exactly once; several guards' transforms run in the
   * order the guards were mounted. Only object and array bodies of responses with status < 400 (text, buffers and
   * streams pass untouched, as do error responses). On Fastify the guard must declare `needs: ['response']`.
   */
  readonly transformResponse?: ResponseTransform;
}

/** Answer the request now; the route does not run. */
export interface RespondOutcome extends Reply {
  readonly kind: 'respond';
}

/** What a guard decides for a request. */
export type Outcome = NextOutcome | RespondOutcome;

/**
 * Middleware logic, framework-free. Return the outcome directly when the work is synchronous: adapters then
 * create no promise for the request.
 *
 * @example
 * ```ts
 * const onlyJson: Guard = (req) =>
 *   req.method === 'POST' && !req.header('content-type')?.startsWith('application/json')
 *     ? { kind: 'respond', status: 415, body: { error: 'send JSON' } }
 *     : { kind: 'next' };
 * app.use(toExpress(onlyJson));
 * ```
 */
export interface Guard {
  (req: RequestView): Outcome | Promise<Outcome>;
  /**
   * The `state` keys this guard may set, which become request properties: Fastify declares them at registration
   * (`decorateRequest`, keeping request objects one shape) and sets them on `request`; Express sets them on `req`
   * as well as `res.locals`; Koa ignores this (all state is on `ctx.state`).
   */
  readonly stateKeys?: readonly string[];
  /**
   * What of the exchange the guard needs beyond the request line and headers: `'body'` (the parsed body: Fastify
   * runs the guard in `preValidation` and refuses `onRequest` at registration; Express and Koa fail a request that
   * carries a body no parser read, with a message naming the parser to mount) and `'response'` (it returns
   * `transformResponse`: Fastify adds its `preSerialization` hook only then).
   */
  readonly needs?: readonly GuardNeed[];
}

/** See {@link Guard.needs}. */
export type GuardNeed = 'body' | 'response';

/**
 * A framework-free route handler (health endpoints, `/metrics`).
 *
 * @example
 * ```ts
 * const version: Handler = () => ({ status: 200, body: { version: '1.2.3' } });
 * app.get('/version', toExpressHandler(version));
 * ```
 */
export type Handler = (req: RequestView) => Reply | Promise<Reply>;

/**
 * A GET endpoint (HEAD is answered too) served by a neutral handler: health probes, `/metrics`. Mounted as a
 * group with `toExpressEndpoints` / `toFastifyEndpoints` / `toKoaEndpoints`, so one line serves every framework.
 *
 * @example
 * ```ts
 * const probes: Endpoint[] = [
 *   { path: '/livez', handler: () => ({ status: 200, body: 'ok' }) },
 *   { path: '/readyz', handler: readyz, child: (req, name) => readyzOne(name) }, // also /readyz/<name>
 * ];
 * app.use(toExpressEndpoints(probes));
 * ```
 */
export interface Endpoint {
  /** Path to answer, e.g. `/livez` (relative to an Express mount point or a Fastify prefix). */
  readonly path: string;
  readonly handler: Handler;
  /** Also answer `<path>/<segment>` (exactly one more segment), given the decoded segment. */
  readonly child?: (req: RequestView, segment: string) => Reply | Promise<Reply>;
}

/** The continue outcome with nothing to add; shared so guards need not allocate one. */
export const NEXT: NextOutcome = Object.freeze({ kind: 'next' });
