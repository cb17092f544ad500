import type { FastifyPluginCallback } from 'fastify';
import { toFastify, type FastifyGuardHook } from '@bulwark/http/fastify';
import { shedWhenOpenGuard, type ShedWhenOpenOptions } from './shed-when-open.js';

/**
 * Fastify plugin: while the breaker is open, requests get 503 + `Retry-After`; 5xx responses count as failures.
 * Register it inside the plugin that holds the protected routes.
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
export const shedWhenOpen = (options: ShedWhenOpenOptions & { hook?: FastifyGuardHook }): FastifyPluginCallback =>
  toFastify(shedWhenOpenGuard(options), { name: '@bulwark/circuit-breaker', hook: options.hook });
