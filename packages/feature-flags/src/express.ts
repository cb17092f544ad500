import type { RequestHandler } from 'express';
import { toExpress } from '@bulwark/http/express';
import type { FeatureFlags } from './feature-flags.js';
import { flagsAdminGuard, type FlagsAdminOptions } from './flags-admin.js';
import { flagsGuard, requireFlagGuard, type FlagsMiddlewareOptions, type RequireFlagOptions } from './flags-guard.js';
import type { RequestFlags } from './request-flags.js';

declare global {
  // Express's own way to type request properties (@types/express declares the global `Express` namespace).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The flags for this request (with the default `requestPropertyName`), set by `flagsMiddleware()`. */
      flags?: RequestFlags;
    }
  }
}

/**
 * Express middleware putting the request's flags on `req.flags` (and `res.locals.flags`).
 *
 * @example
 * ```ts
 * import { flagsMiddleware } from '@bulwark/feature-flags/express';
 * app.use(flagsMiddleware(flags, { targetingKey: (req) => req.header('x-user-id') }));
 * app.get('/checkout', (req, res) => res.json({ v2: req.flags!.isEnabled('new-checkout') }));
 * ```
 */
export const flagsMiddleware = (flags: FeatureFlags, options?: FlagsMiddlewareOptions): RequestHandler =>
  toExpress(flagsGuard(flags, options));

/**
 * Express middleware answering 404 unless `flag` is on for the request.
 *
 * @example
 * ```ts
 * app.get('/beta', requireFlag(flags, 'beta-page', { targetingKey: (req) => req.header('x-user-id') }), handler);
 * ```
 */
export const requireFlag = (flags: FeatureFlags, flag: string, options?: RequireFlagOptions): RequestHandler =>
  toExpress(requireFlagGuard(flags, flag, options));

/**
 * The flags admin (a page to see, toggle and roll out flags, and its JSON API) at `prefix` (default
 * `/flags-admin`); other requests pass through. `authorize` is required. Mount a JSON body parser before it.
 *
 * @example
 * ```ts
 * app.use(express.json(), flagsAdmin(flags, { authorize: (req) => req.header('authorization') === `Bearer ${token}` }));
 * // then open http://localhost:3000/flags-admin/
 * ```
 */
export const flagsAdmin = (flags: FeatureFlags, options: FlagsAdminOptions): RequestHandler =>
  toExpress(flagsAdminGuard(flags, options));
