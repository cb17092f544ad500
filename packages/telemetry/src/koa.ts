import type { Middleware } from 'koa';
import { toKoa, toKoaEndpoints } from '@bulwark/http/koa';
import { metricsEndpoint, type MetricsEndpointOptions } from './metrics-endpoint.js';
import { statusPageEndpoint, type StatusPageOptions } from './status-page.js';
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

/**
 * The live status page (breakers, rate limits, bulkheads, policy calls, health checks, updated over server-sent
 * events) at `GET /bulwark` (`path` to move it). `authorize` is required: the page names your dependencies.
 *
 * @example
 * ```ts
 * import { statusPage } from '@bulwark/telemetry/koa';
 * app.use(statusPage({ authorize: (req) => req.header('authorization') === `Bearer ${token}`, health }));
 * ```
 */
export const statusPage = (options: StatusPageOptions): Middleware => toKoaEndpoints([statusPageEndpoint(options)]);
