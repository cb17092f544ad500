import type { FastifyPluginCallback, RawRequestDefaultExpression } from 'fastify';
import { toFastify, toFastifyRewriteUrl, toFastifyRoutes, type FastifyGuardHook } from '@bulwark/http/fastify';
import { routeDeprecation, type RouteDeprecationOptions } from './route-deprecation.js';
import type { Versioning } from './versioning.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API version this request resolved to (with the default `requestPropertyName`). */
    apiVersion: string;
  }
  interface FastifyContextConfig {
    /** Deprecates the route, read by `deprecatedRoutes()` at boot. */
    deprecated?: RouteDeprecationOptions;
  }
}

/**
 * Fastify plugin for API versioning: refuses unsupported versions, retires sunset ones, adds deprecation headers,
 * sets `request.apiVersion`, and translates older callers through the version changes. Fastify routes before any
 * hook runs, so URI versions are stripped by `rewriteUrl`: pass `fastifyRewriteUrl(versioning)` to `fastify()`.
 * (Fastify's own `constraints: { version }` routes by `Accept-Version` to parallel handlers; this plugin is the
 * alternative when handlers are written once and older versions are translated.)
 *
 * @example
 * ```ts
 * import { apiVersioning, fastifyRewriteUrl } from '@bulwark/api-versioning/fastify';
 * const app = Fastify({ rewriteUrl: fastifyRewriteUrl(versioning) });
 * await app.register(apiVersioning(versioning));
 * ```
 */
export const apiVersioning = (
  versioning: Versioning,
  options: { hook?: FastifyGuardHook } = {},
): FastifyPluginCallback => toFastify(versioning.guard, { name: '@bulwark/api-versioning', hook: options.hook });

/**
 * The `rewriteUrl` for `fastify()` that strips a URI version (`/v2/users` → `/users`); the identity when the
 * versioning has no URI extractor.
 *
 * @example
 * ```ts
 * const app = Fastify({ rewriteUrl: fastifyRewriteUrl(versioning) });
 * ```
 */
export function fastifyRewriteUrl(versioning: Versioning): (req: RawRequestDefaultExpression) => string {
  return versioning.rewrite ? toFastifyRewriteUrl(versioning.rewrite) : (req) => req.url ?? '/';
}

/**
 * Fastify plugin deprecating the routes whose `config.deprecated` says so.
 *
 * @example
 * ```ts
 * await app.register(deprecatedRoutes());
 * app.get('/search', { config: { deprecated: { deprecatedAt: '2026-01-01' } } }, search);
 * ```
 */
export const deprecatedRoutes = (options: { hook?: FastifyGuardHook } = {}): FastifyPluginCallback =>
  toFastifyRoutes((route) => (route.config?.deprecated ? routeDeprecation(route.config.deprecated) : undefined), {
    name: '@bulwark/api-versioning:deprecated-routes',
    hook: options.hook,
  });
