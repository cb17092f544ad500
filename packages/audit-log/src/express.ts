import type { RequestHandler } from 'express';
import { toExpress } from '@bulwark/http/express';
import { auditGuard, type AuditRequestsOptions } from './audit-guard.js';
import type { AuditLog } from './audit-log.js';

/**
 * Express middleware that records request-scoped security outcomes: the refusals of the Bulwark guards mounted
 * after it, and the app's own 401/403. Mount it first.
 *
 * @example
 * ```ts
 * import { auditRequests } from '@bulwark/audit-log/express';
 * app.use(auditRequests(audit, { user: (req) => req.header('x-user-id') }));
 * app.use(rateLimit(limiter));
 * ```
 */
export const auditRequests = (audit: AuditLog, options?: AuditRequestsOptions): RequestHandler =>
  toExpress(auditGuard(audit, options));
