import type { Endpoint, Handler } from './contract.js';

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
