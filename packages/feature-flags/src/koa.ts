import type { Middleware } from 'koa';
import { toKoa } from '@bulwark/http/koa';
import type { FeatureFlags } from './feature-flags.js';
import { flagsAdminGuard, type FlagsAdminOptions } from './flags-admin.js';
import { flagsGuard, requireFlagGuard, type FlagsMiddlewareOptions, type RequireFlagOptions } from './flags-guard.js';

/**
 * Koa middleware putting the request's flags on `ctx.state.flags`.
 *
 * @example
 * ```ts
 * import { flagsMiddleware } from '@bulwark/feature-flags/koa';
 * app.use(flagsMiddleware(flags, { targetingKey: (req) => req.header('x-user-id') }));
 * app.use((ctx) => { ctx.body = { v2: ctx.state.flags.isEnabled('new-checkout') }; });
 * ```
 */
export const flagsMiddleware = (flags: FeatureFlags, options?: FlagsMiddlewareOptions): Middleware =>
  toKoa(flagsGuard(flags, options));

/**
 * Koa middleware answering 404 unless `flag` is on for the request (mount it on a `@koa/router` route).
 *
 * @example
 * ```ts
 * router.get('/beta', requireFlag(flags, 'beta-page'), handler);
 * ```
 */
export const requireFlag = (flags: FeatureFlags, flag: string, options?: RequireFlagOptions): Middleware =>
  toKoa(requireFlagGuard(flags, flag, options));

/**
 * The flags admin (a page to see, toggle and roll out flags, and its JSON API) at `prefix` (default
 * `/flags-admin`); other requests go on to `next()`. `authorize` is required. Mount `@koa/bodyparser` before it.
 *
 * @example
 * ```ts
 * app.use(bodyParser());
 * app.use(flagsAdmin(flags, { authorize: (req) => req.header('authorization') === `Bearer ${token}` }));
 * ```
 */
export const flagsAdmin = (flags: FeatureFlags, options: FlagsAdminOptions): Middleware =>
  toKoa(flagsAdminGuard(flags, options));
