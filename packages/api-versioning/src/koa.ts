import type { Middleware } from 'koa';
import { toKoa, toKoaRewrite } from '@bulwark/http/koa';
import { routeDeprecation, type RouteDeprecationOptions } from './route-deprecation.js';
import type { Versioning } from './versioning.js';

/**
 * Koa middleware for API versioning: strips a URI version, refuses unsupported versions, retires sunset ones, adds
 * deprecation headers, sets `ctx.state.apiVersion`, and translates older callers through the version changes.
 * Mount it before the router (and after `@koa/bodyparser` when changes rewrite request bodies).
 *
 * @example
 * ```ts
 * import { apiVersioning } from '@bulwark/api-versioning/koa';
 * app.use(apiVersioning(versioning));
 * app.use(router.routes());
 * ```
 */
export function apiVersioning(versioning: Versioning): Middleware {
  const guard = toKoa(versioning.guard);
  if (!versioning.rewrite) return guard;
  const rewrite = toKoaRewrite(versioning.rewrite);
  const applies = versioning.rewrite.applies;
  // Koa types a middleware's result as `any`; both answer a promise (or undefined), passed on as is. Most URLs name
  // no version: they go straight to the guard.
  return (ctx, next) =>
    applies !== undefined && !applies(ctx.url)
      ? (guard(ctx, next) as Promise<void>)
      : (rewrite(ctx, () => guard(ctx, next) as Promise<void>) as Promise<void>);
}

/**
 * Koa middleware deprecating one route (mount it on a `@koa/router` route).
 *
 * @example
 * ```ts
 * router.get('/search', deprecateRoute({ deprecatedAt: '2026-01-01' }), search);
 * ```
 */
export const deprecateRoute = (options: RouteDeprecationOptions): Middleware => toKoa(routeDeprecation(options));
