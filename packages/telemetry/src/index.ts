// ---- Instrumentation ----
export { instrument, type DefaultMetricsOptions, type InstrumentOptions, type Instrumentation } from './instrument.js';
export { bulwarkMetrics, durationBuckets, type BulwarkMetrics } from './metrics.js';
export { channelHandlers, type ChannelHandler, type TelemetryPackage, type TelemetrySinks } from './channel-map.js';
export type { TelemetryLogger } from './logger.js';

// ---- HTTP (neutral; mount with ./express, ./fastify, ./koa) ----
export { metricsEndpoint, type MetricsEndpointOptions } from './metrics-endpoint.js';
export { httpDurationBuckets, requestMetricsGuard, type RequestMetricsOptions } from './request-metrics.js';
export { statusPageEndpoint, type StatusPageOptions } from './status-page.js';
export type {
  StatusBreaker,
  StatusBulkhead,
  StatusFeedEvent,
  StatusHealth,
  StatusHealthReport,
  StatusPolicyCalls,
  StatusSnapshot,
} from './status-collector.js';
