// ---- Checks and probes ----
export {
  createHealth,
  Health,
  type CheckEvent,
  type HealthOptions,
  type HealthReport,
  type ProbeName,
  type ReportOptions,
} from './health.js';
export type { CheckResult, CheckReturn, HealthCheck, ProbeTag } from './check.js';
export type { CheckOutcome } from './check-runner.js';
export { aggregateStatus, normalizeStatus, type HealthStatus, type StatusInput } from './status.js';

// ---- Built-in checks ----
export {
  diskCheck,
  eventLoopDelayCheck,
  heapCheck,
  httpCheck,
  pingCheck,
  redisCheck,
  rssCheck,
  type CheckOverrides,
  type PingableRedis,
} from './checks.js';

// ---- Endpoints (neutral; mount with ./express, ./fastify, ./koa) ----
export { healthEndpoints, type HealthEndpointName, type HealthEndpointsOptions } from './health-endpoints.js';
export { toHealthDocument, type HealthCheckEntry, type HealthDocument } from './health-document.js';

// ---- Graceful shutdown ----
export {
  gracefulShutdown,
  GracefulShutdown,
  type GracefulShutdownOptions,
  type ShutdownEvent,
  type ShutdownHook,
  type ShutdownReport,
  type ShutdownTarget,
} from './graceful-shutdown.js';
