import type { FastifyPluginCallback } from 'fastify';
import { toFastify, toFastifyEndpoints } from '@bulwark/http/fastify';
import { metricsEndpoint, type MetricsEndpointOptions } from './metrics-endpoint.js';
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
