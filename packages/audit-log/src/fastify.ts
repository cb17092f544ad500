import type { FastifyPluginCallback } from 'fastify';
import { toFastify, type FastifyGuardHook } from '@bulwark/http/fastify';
import { auditGuard, type AuditRequestsOptions } from './audit-guard.js';
import type { AuditLog } from './audit-log.js';

/**
 * Fastify plugin that records request-scoped security outcomes: the refusals of the Bulwark guards registered
 * after it (on the same or a later hook), and the app's own 401/403. Register it first; hook `onRequest` by default.
 *
 * @example
 * ```ts
 * import { auditRequests } from '@bulwark/audit-log/fastify';
 * await app.register(auditRequests(audit));
 * await app.register(rateLimit(limiter));
 * ```
 */
export const auditRequests = (
  audit: AuditLog,
  options: AuditRequestsOptions & { hook?: FastifyGuardHook } = {},
): FastifyPluginCallback => {
  const { hook, ...rest } = options;
  return toFastify(auditGuard(audit, rest), { name: '@bulwark/audit-log', hook: hook ?? 'onRequest' });
};
