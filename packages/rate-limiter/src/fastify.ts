import type { FastifyPluginCallback } from 'fastify';
import { toFastify, toFastifyRoutes, type FastifyGuardHook } from '@bulwark/http/fastify';
import { rateLimitGuard, type RateLimitOptions } from './rate-limit.js';
import type { Decision } from './decision.js';
import type { StoreMode } from './store.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The decision for this request (with the default `requestPropertyName`); `null` where no limit applied. */
    rateLimit: Decision | null;
  }
  interface FastifyContextConfig {
    /** Per-route limit read by `rateLimitRoutes()` at boot; `false` exempts the route from it and from `rateLimit()`. */
    rateLimit?: RateLimitOptions | false;
  }
}

/**
 * Fastify plugin: limits every request of the context it is registered in (and its children), sets the IETF
 * `RateLimit` headers, and answers refused requests with 429 + `Retry-After`. The decision is
 * `request.rateLimit`. Runs in `onRequest` by default, before the body is read. Bulwark's own endpoints (probes,
 * `/metrics`) and routes with `config: { rateLimit: false }` are not limited.
 *
 * @example
 * ```ts
 * import { rateLimiter } from '@bulwark/rate-limiter';
 * import { rateLimit } from '@bulwark/rate-limiter/fastify';
 * await app.register(rateLimit({ limiter: rateLimiter({ limit: 100, windowMs: 60_000 }) }));
 * ```
 */
export const rateLimit = <M extends StoreMode>(
  options: RateLimitOptions<M> & { hook?: FastifyGuardHook },
): FastifyPluginCallback => {
  const { hook, ...rest } = options;
  return toFastify(rateLimitGuard(rest), { name: '@bulwark/rate-limiter', hook, routeConfigKey: 'rateLimit' });
};

/**
 * Fastify plugin for per-route limits: each route added after it that sets `config.rateLimit` gets its own guard,
 * built once at boot (`onRoute`); other routes pay nothing. Options given here are defaults for every route's.
 *
 * @example
 * ```ts
 * import { rateLimitRoutes } from '@bulwark/rate-limiter/fastify';
 * await app.register(rateLimitRoutes({ clientIp: { trustProxy: 1 } }));
 * app.post('/login', { config: { rateLimit: { limiter: logins, countIf: (s) => s >= 400 } } }, login);
 * ```
 */
export const rateLimitRoutes = (
  defaults: Omit<RateLimitOptions, 'limiter' | 'limiters'> & { hook?: FastifyGuardHook } = {},
): FastifyPluginCallback => {
  const { hook, ...base } = defaults;
  const property = base.requestPropertyName ?? 'rateLimit';
  return toFastifyRoutes(
    (route) => {
      const own = route.config?.rateLimit;
      if (own === undefined || own === false) return undefined;
      return rateLimitGuard({ ...base, ...own });
    },
    { name: '@bulwark/rate-limiter:routes', hook, state: property === false ? [] : [property] },
  );
};
