import type { Middleware } from 'koa';
import { toKoa, toKoaEndpoints } from '@bulwark/http/koa';
import { metricsEndpoint, type MetricsEndpointOptions } from './metrics-endpoint.js';
import { requestMetricsGuard, type RequestMetricsOptions } from './request-metrics.js';

/**
 * Koa middleware answering `GET /metrics` with the Prometheus text exposition.
 *
 * @example
 * ```ts
 * import { metricsRoute } from '@bulwark/telemetry/koa';
 * app.use(metricsRoute());
 * ```
 */
export const metricsRoute = (options?: MetricsEndpointOptions): Middleware =>
  toKoaEndpoints([metricsEndpoint(options)]);

/**
 * Koa middleware recording `http_server_request_duration_seconds` per method, route template (from `@koa/router`)
 * and status. Mount it first.
 *
 * @example
 * ```ts
 * import { requestMetrics } from '@bulwark/telemetry/koa';
 * app.use(requestMetrics());
 * ```
 */
export const requestMetrics = (options?: RequestMetricsOptions): Middleware => toKoa(requestMetricsGuard(options));
