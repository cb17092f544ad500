import type { Endpoint, Handler, Reply, RequestView } from './contract.js';
import { isThenable } from './request-view.js';

/**
 * Finds the handler for a request path among endpoints, for the adapters that mount endpoints as middleware
 * (Express, Koa; Fastify registers real routes). Exact paths are looked up in a map, so a request to any other path
 * costs one lookup and one `lastIndexOf`.
 */
export function endpointMatcher(endpoints: readonly Endpoint[]): (path: string) => Handler | undefined {
  const exact = new Map<string, Handler>();
  const parents = new Map<string, NonNullable<Endpoint['child']>>();
  for (const endpoint of endpoints) {
    exact.set(endpoint.path, endpoint.handler);
    if (endpoint.child !== undefined) parents.set(endpoint.path, endpoint.child);
  }
  return (path) => {
    const handler = exact.get(path);
    if (handler !== undefined || parents.size === 0) return handler;
    const slash = path.lastIndexOf('/');
    if (slash <= 0 || slash === path.length - 1) return undefined;
    const child = parents.get(path.slice(0, slash));
    if (child === undefined) return undefined;
    const segment = decodeSegment(path.slice(slash + 1));
    return segment === undefined ? undefined : (req) => child(req, segment);
  };
}

/** A percent-decoded path segment, or `undefined` when it is malformed. */
export function decodeSegment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** The answer to a request {@link authorizeEndpoints} refuses. */
const FORBIDDEN: Reply = Object.freeze({
  status: 403,
  headers: Object.freeze({ 'cache-control': 'no-store' }),
  body: 'forbidden',
});

/**
 * Puts endpoints behind a decision: `allow(req, endpoint)` (sync or async) says whether the request may be answered;
 * refused requests get 403 `forbidden`. Child segments are guarded like their parent.
 *
 * @example
 * ```ts
 * app.use(toExpressEndpoints(authorizeEndpoints(endpoints, (req) => req.header('authorization') === `Bearer ${token}`)));
 * ```
 */
export function authorizeEndpoints(
  endpoints: readonly Endpoint[],
  allow: (req: RequestView, endpoint: Endpoint) => boolean | Promise<boolean>,
): Endpoint[] {
  return endpoints.map((endpoint) => {
    const gate =
      <A extends unknown[]>(answer: (req: RequestView, ...rest: A) => Reply | Promise<Reply>) =>
      (req: RequestView, ...rest: A): Reply | Promise<Reply> => {
        const allowed = allow(req, endpoint);
        if (isThenable(allowed)) return allowed.then((ok) => (ok ? answer(req, ...rest) : FORBIDDEN));
        return allowed ? answer(req, ...rest) : FORBIDDEN;
      };
    const child = endpoint.child;
    return {
      path: endpoint.path,
      handler: gate(endpoint.handler),
      ...(child === undefined ? {} : { child: gate(child) }),
    };
  });
}
