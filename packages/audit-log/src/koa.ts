import type { Middleware } from 'koa';
import { toKoa } from '@bulwark/http/koa';
import { auditGuard, type AuditRequestsOptions } from './audit-guard.js';
import type { AuditLog } from './audit-log.js';

/**
 * Koa middleware that records request-scoped security outcomes: the refusals of the Bulwark guards mounted after
 * it, and the app's own 401/403. Mount it first.
 *
 * @example
 * ```ts
 * import { auditRequests } from '@bulwark/audit-log/koa';
 * app.use(auditRequests(audit, { user: (req) => req.header('x-user-id') }));
 * app.use(rateLimit(limiter));
 * ```
 */
export const auditRequests = (audit: AuditLog, options?: AuditRequestsOptions): Middleware =>
  toKoa(auditGuard(audit, options));
