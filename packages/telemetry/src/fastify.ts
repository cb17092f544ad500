import type { FastifyPluginCallback } from 'fastify';
import { toFastify, toFastifyEndpoints } from '@bulwark/http/fastify';
import { metricsEndpoint, type MetricsEndpointOptions } from './metrics-endpoint.js';
import { statusPageEndpoint, type StatusPageOptions } from './status-page.js';
import { requestMetricsGuard, type RequestMetricsOptions } from './request-metrics.js';

/**
 * Fastify plugin registering `GET /metrics` with the Prometheus text exposition.
 *
 * @example
 * ```ts
 * import { metricsRoute } from '@bulwark/telemetry/fastify';
 * await app.register(metricsRoute());
 * ```
 */
export const metricsRoute = (options?: MetricsEndpointOptions): FastifyPluginCallback =>
  toFastifyEndpoints([metricsEndpoint(options)]);

/**
 * Fastify plugin recording `http_server_request_duration_seconds` per method, route template and status for the
 * context it is registered in.
 *
 * @example
 * ```ts
 * import { requestMetrics } from '@bulwark/telemetry/fastify';
 * await app.register(requestMetrics());
 * ```
 */
export const requestMetrics = (options?: RequestMetricsOptions): FastifyPluginCallback =>
  toFastify(requestMetricsGuard(options), { name: '@bulwark/telemetry:request-metrics' });

/**
 * The live status page (breakers, rate limits, bulkheads, policy calls, health checks, updated over server-sent
 * events) at `GET /bulwark` (`path` to move it). `authorize` is required: the page names your dependencies.
 *
 * @example
 * ```ts
 * import { statusPage } from '@bulwark/telemetry/fastify';
 * await app.register(statusPage({ authorize: (req) => req.header('authorization') === `Bearer ${token}`, health }));
 * ```
 */
export const statusPage = (options: StatusPageOptions): FastifyPluginCallback =>
  toFastifyEndpoints([statusPageEndpoint(options)]);
