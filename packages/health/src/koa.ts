import type { Middleware } from 'koa';
import { toKoaEndpoints } from '@bulwark/http/koa';
import type { Health } from './health.js';
import { healthEndpoints, type HealthEndpointsOptions } from './health-endpoints.js';

/**
 * Koa middleware serving `/health`, `/livez`, `/readyz`, `/startupz` (and `/<probe>/<check>`); other requests go
 * on to `next()`.
 *
 * @example
 * ```ts
 * import { healthRoutes } from '@bulwark/health/koa';
 * app.use(healthRoutes(health));
 * ```
 */
export const healthRoutes = (health: Health, options?: HealthEndpointsOptions): Middleware =>
  toKoaEndpoints(healthEndpoints(health, options));
