import type { FastifyPluginCallback } from 'fastify';
import { toFastifyEndpoints } from '@bulwark/http/fastify';
import type { Health } from './health.js';
import { healthEndpoints, type HealthEndpointsOptions } from './health-endpoints.js';

/**
 * Fastify plugin registering GET (and HEAD) routes for `/health`, `/livez`, `/readyz`, `/startupz` and
 * `/<probe>/:check`. Encapsulated: `register(healthRoutes(health), { prefix: '/ops' })` moves them.
 *
 * @example
 * ```ts
 * import { healthRoutes } from '@bulwark/health/fastify';
 * await app.register(healthRoutes(health));
 * ```
 */
export const healthRoutes = (health: Health, options?: HealthEndpointsOptions): FastifyPluginCallback =>
  toFastifyEndpoints(healthEndpoints(health, options));
