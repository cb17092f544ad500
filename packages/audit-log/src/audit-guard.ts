import diagnosticsChannel from 'node:diagnostics_channel';
import { functionSchema, parseOptions } from '@bulwark/core/internal';
import { NEXT, refusalChannel, type Guard, type RefusalEvent, type Reply, type RequestView } from '@bulwark/http';
import { z } from 'zod';
import type { AuditEvent } from './audit-record.js';
import type { AuditLog } from './audit-log.js';
import type { AuditEventType } from './vocabulary.js';

/** Options of the audit middleware (`auditRequests` in each framework subpath). */
export interface AuditRequestsOptions {
  /**
   * Record the refusals of every Bulwark guard mounted after this one (rate limited, circuit open or shed, version
   * sunset, invalid input), from the `bulwark:http:refusal` channel. Default true.
   */
  refusals?: boolean;
  /**
   * Responses of the application itself to record, by status. Default `{ 401: 'authz_fail', 403: 'authz_fail' }`;
   * `{}` records none.
   */
  statuses?: Readonly<Record<number, AuditEventType>>;
  /** Who made the request (`user` on the record), e.g. from your auth middleware's state. */
  user?: (req: RequestView) => string | undefined;
  /**
   * Maps a refusal to the event to record, or `undefined` to skip it. Default: 429 → `excess_rate_limit_exceeded`,
   * 503 → `bulwark_shed`, 410 → `bulwark_gone`, 400/413/415/422 → `input_validation_fail`, 401/403 →
   * `authz_fail`; others are not recorded.
   */
  classify?: (reply: Reply, req: RequestView) => AuditEventType | undefined;
}

const optionsSchema = z
  .object({
    refusals: z.boolean().default(true),
    statuses: z
      .record(z.string().regex(/^[1-5][0-9]{2}$/, 'must be an HTTP status'), z.string().min(1))
      .default({ 401: 'authz_fail', 403: 'authz_fail' }),
    user: functionSchema<(req: RequestView) => string | undefined>().optional(),
    classify: functionSchema<(reply: Reply, req: RequestView) => AuditEventType | undefined>().optional(),
  })
  .strict();

/**
 * The default event for a guard's refusal, or `undefined` for one that is no security outcome (a 404 from a feature
 * flag that is off for this user).
 */
export function refusalEvent(reply: Reply): AuditEventType | undefined {
  switch (reply.status) {
    case 429:
      return 'excess_rate_limit_exceeded';
    case 503:
      return 'bulwark_shed';
    case 410:
      return 'bulwark_gone';
    case 400:
    case 413:
    case 415:
    case 422:
      return 'input_validation_fail';
    case 401:
    case 403:
      return 'authz_fail';
    default:
      return undefined;
  }
}

/** The request id @bulwark/http's requestId middleware settled on, else the incoming `x-request-id`. */
function requestIdOf(req: RequestView): string | undefined {
  const id = req.state('requestId');
  return typeof id === 'string' ? id : req.header('x-request-id');
}

function problemText(body: unknown): { title?: string; type?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const { title, type } = body as { title?: unknown; type?: unknown };
  return { ...(typeof title === 'string' ? { title } : {}), ...(typeof type === 'string' ? { type } : {}) };
}

/**
 * The neutral guard behind the framework adapters: marks each request it sees, records the refusals of the Bulwark
 * guards after it (with the request id, client address, user, method and path), and records the application's own
 * 401/403 (configurable) once the response is sent. Refusals cost nothing unless they happen; a passing request
 * costs one WeakSet entry and one `after` hook when `statuses` is not empty.
 *
 * @example
 * ```ts
 * const guard = auditGuard(audit, { user: (req) => req.header('x-user') });
 * app.use(toExpress(guard)); // or auditRequests(audit, options) from '@bulwark/audit-log/express'
 * ```
 */
export function auditGuard(audit: AuditLog, options: AuditRequestsOptions = {}): Guard {
  const o = parseOptions(optionsSchema, options, 'auditRequests()');
  const seen = new WeakSet<object>(); // requests this guard saw (their framework request object)
  const recorded = new WeakSet<object>(); // ...and already recorded, so `after` does not record them twice
  const classify = o.classify ?? refusalEvent;
  const base = (req: RequestView): Omit<AuditEvent, 'event'> => {
    const user = o.user?.(req);
    const requestId = requestIdOf(req);
    const userAgent = req.header('user-agent');
    return {
      ...(user === undefined ? {} : { user }),
      ...(requestId === undefined ? {} : { requestId }),
      sourceIp: req.ip,
      method: req.method,
      uri: req.originalUrl,
      ...(userAgent === undefined ? {} : { userAgent }),
    };
  };
  if (o.refusals) {
    diagnosticsChannel.subscribe(refusalChannel.name, (message) => {
      const { request, reply } = message as RefusalEvent;
      const raw = request.raw as object;
      if (!seen.has(raw) || recorded.has(raw)) return;
      const event = classify(reply, request);
      if (event === undefined) return;
      recorded.add(raw);
      const problem = problemText(reply.body);
      const fields = base(request);
      audit.record({
        event,
        ...(event === 'excess_rate_limit_exceeded' ? { args: [fields.user ?? request.ip] } : {}),
        ...fields,
        status: reply.status,
        result: 'failure',
        ...(problem.title === undefined ? {} : { reason: problem.title }),
        ...(problem.type === undefined ? {} : { data: { problemType: problem.type } }),
      });
    });
  }
  const statuses = new Map(Object.entries(o.statuses).map(([status, event]) => [Number(status), event]));
  if (statuses.size === 0) {
    return (req) => {
      seen.add(req.raw as object);
      return NEXT;
    };
  }
  return (req) => {
    const raw = req.raw as object;
    seen.add(raw);
    return {
      kind: 'next',
      after: (status, aborted) => {
        const event = statuses.get(status);
        if (event === undefined || aborted || recorded.has(raw)) return;
        recorded.add(raw);
        audit.record({ event, ...base(req), status, result: 'failure' });
      },
    };
  };
}
