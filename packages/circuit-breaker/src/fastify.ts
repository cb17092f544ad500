import type { FastifyPluginCallback } from 'fastify';
import { toFastify, type FastifyGuardHook } from '@bulwark/http/fastify';
import { shedWhenOpenGuard, type ShedWhenOpenOptions } from './shed-when-open.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: `shedWhenOpen()` neither sheds nor counts this route. */
    shedWhenOpen?: false;
  }
}

/**
 * Fastify plugin: while the breaker is open, requests get 503 + `Retry-After`; 5xx responses count as failures.
 * Register it inside the plugin that holds the protected routes. Bulwark's own endpoints and routes with
 * `config: { shedWhenOpen: false }` pass.
 *
 * @example
 * ```ts
 * import { shedWhenOpen } from '@bulwark/circuit-breaker/fastify';
 * await app.register(async (payments) => {
 *   await payments.register(shedWhenOpen({ breaker }));
 *   payments.post('/charge', charge);
 * }, { prefix: '/payments' });
 * ```
 */
export const shedWhenOpen = ({
  hook,
  ...options
}: ShedWhenOpenOptions & { hook?: FastifyGuardHook }): FastifyPluginCallback =>
  toFastify(shedWhenOpenGuard(options), { name: '@bulwark/circuit-breaker', hook, routeConfigKey: 'shedWhenOpen' });
