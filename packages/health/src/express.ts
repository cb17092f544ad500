import type { RequestHandler } from 'express';
import { toExpressEndpoints } from '@bulwark/http/express';
import type { Health } from './health.js';
import { healthEndpoints, type HealthEndpointsOptions } from './health-endpoints.js';

/**
 * Express middleware serving `/health`, `/livez`, `/readyz`, `/startupz` (and `/<probe>/<check>`); other requests
 * pass through. Paths are relative to where it is mounted.
 *
 * @example
 * ```ts
 * import { healthRoutes } from '@bulwark/health/express';
 * app.use(healthRoutes(health, { exposeDetails: process.env.NODE_ENV !== 'production' }));
 * ```
 */
export const healthRoutes = (health: Health, options?: HealthEndpointsOptions): RequestHandler =>
  toExpressEndpoints(healthEndpoints(health, options));
