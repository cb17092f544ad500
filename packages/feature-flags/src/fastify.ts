import type { FastifyPluginCallback } from 'fastify';
import { toFastify, toFastifyHandler, toFastifyRoutes, type FastifyGuardHook } from '@bulwark/http/fastify';
import { flagsAdmin as createAdmin, type FlagsAdminOptions } from './flags-admin.js';
import type { FeatureFlags } from './feature-flags.js';
import { flagsGuard, requireFlagGuard, type FlagsMiddlewareOptions, type RequireFlagOptions } from './flags-guard.js';
import type { RequestFlags } from './request-flags.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The flags for this request (with the default `requestPropertyName`), set by `flagsMiddleware()`. */
    flags: RequestFlags;
  }
  interface FastifyContextConfig {
    /** A flag the route needs, read by `flagRoutes()` at boot: the route answers 404 while it is off. */
    featureFlag?: string;
  }
}

/**
 * Fastify plugin putting the request's flags on `request.flags`.
 *
 * @example
 * ```ts
 * import { flagsMiddleware } from '@bulwark/feature-flags/fastify';
 * await app.register(flagsMiddleware(flags, { targetingKey: (req) => req.header('x-user-id') }));
 * app.get('/checkout', (request) => ({ v2: request.flags.isEnabled('new-checkout') }));
 * ```
 */
export const flagsMiddleware = (
  flags: FeatureFlags,
  options?: FlagsMiddlewareOptions & { hook?: FastifyGuardHook },
): FastifyPluginCallback => {
  const { hook, ...rest } = options ?? {};
  return toFastify(flagsGuard(flags, rest), { name: '@bulwark/feature-flags', hook });
};

/**
 * Fastify plugin answering 404 unless `flag` is on, for the routes registered in its scope.
 *
 * @example
 * ```ts
 * await app.register(async (beta) => {
 *   await beta.register(requireFlag(flags, 'beta-api'));
 *   beta.get('/beta/items', handler);
 * });
 * ```
 */
export const requireFlag = (
  flags: FeatureFlags,
  flag: string,
  options?: RequireFlagOptions & { hook?: FastifyGuardHook },
): FastifyPluginCallback => {
  const { hook, ...rest } = options ?? {};
  return toFastify(requireFlagGuard(flags, flag, rest), { name: `@bulwark/feature-flags:${flag}`, hook });
};

/**
 * Fastify plugin guarding each route whose `config.featureFlag` names a flag: 404 while the flag is off.
 *
 * @example
 * ```ts
 * await app.register(flagRoutes(flags));
 * app.get('/beta', { config: { featureFlag: 'beta-page' } }, handler);
 * ```
 */
export const flagRoutes = (
  flags: FeatureFlags,
  options?: RequireFlagOptions & { hook?: FastifyGuardHook },
): FastifyPluginCallback => {
  const { hook, ...rest } = options ?? {};
  const guards = new Map<string, ReturnType<typeof requireFlagGuard>>();
  return toFastifyRoutes(
    (route) => {
      const flag = route.config?.featureFlag;
      if (flag === undefined) return undefined;
      let guard = guards.get(flag);
      if (!guard) guards.set(flag, (guard = requireFlagGuard(flags, flag, rest)));
      return guard;
    },
    { name: '@bulwark/feature-flags:routes', hook },
  );
};

/**
 * Fastify plugin serving the flags admin (a page to see, toggle and roll out flags, and its JSON API) at `prefix`
 * (default `/flags-admin`). `authorize` is required. Set the path with `prefix`, not with `register`'s prefix.
 *
 * @example
 * ```ts
 * await app.register(flagsAdmin(flags, { authorize: (req) => req.header('authorization') === `Bearer ${token}` }));
 * ```
 */
export const flagsAdmin = (flags: FeatureFlags, options: FlagsAdminOptions): FastifyPluginCallback => {
  const { handler, prefix } = createAdmin(flags, options);
  const routeHandler = toFastifyHandler(handler);
  return (fastify, _opts, done) => {
    for (const url of [prefix, `${prefix}/*`]) {
      // HEAD comes with GET (Fastify's exposeHeadRoutes).
      fastify.route({ method: ['GET', 'PUT', 'DELETE'], url, handler: routeHandler });
    }
    done();
  };
};
