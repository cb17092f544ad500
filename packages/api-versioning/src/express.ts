import type { RequestHandler } from 'express';
import { toExpress, toExpressRewrite } from '@bulwark/http/express';
import { routeDeprecation, type RouteDeprecationOptions } from './route-deprecation.js';
import type { Versioning } from './versioning.js';

declare global {
  // Express's own way to type request properties (@types/express declares the global `Express` namespace).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The API version this request resolved to (with the default `requestPropertyName`). */
      apiVersion?: string;
    }
  }
}

/**
 * Express middleware for API versioning: strips a URI version (`/v2/users` → `/users`) so the routes are written
 * once, then refuses unsupported versions, retires sunset ones, adds deprecation headers, sets `req.apiVersion`,
 * and translates older callers through the version changes. Mount it before the routes (and after `express.json()`
 * when changes rewrite request bodies).
 *
 * @example
 * ```ts
 * import { apiVersioning } from '@bulwark/api-versioning/express';
 * app.use(apiVersioning(versioning));
 * app.get('/users', (req, res) => res.json({ version: req.apiVersion }));
 * ```
 */
export function apiVersioning(versioning: Versioning): RequestHandler {
  const guard = toExpress(versioning.guard);
  if (!versioning.rewrite) return guard;
  const rewrite = toExpressRewrite(versioning.rewrite);
  const applies = versioning.rewrite.applies;
  // One middleware rather than two: each one costs a pass of Express's router. Most URLs name no version: they go
  // straight to the guard.
  return (req, res, next) => {
    if (applies !== undefined && !applies(req.url)) guard(req, res, next);
    else rewrite(req, res, (error?: unknown) => (error === undefined ? guard(req, res, next) : next(error)));
  };
}

/**
 * Express middleware deprecating one route: `Deprecation`, `Sunset`, `Link` headers, then 410 from `sunsetAt` on.
 *
 * @example
 * ```ts
 * app.get('/search', deprecateRoute({ deprecatedAt: '2026-01-01', sunsetAt: '2027-01-01' }), search);
 * ```
 */
export const deprecateRoute = (options: RouteDeprecationOptions): RequestHandler =>
  toExpress(routeDeprecation(options));
