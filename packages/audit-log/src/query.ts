import type { AuditRecord } from './audit-record.js';
import type { AuditLevel } from './vocabulary.js';

/** Which records {@link AuditLog.query} returns. Every field narrows; none given means all. */
export interface AuditQuery {
  /** Written at or after this time (Date, ms since the epoch, or ISO 8601). */
  since?: Date | number | string;
  /** Written before this time. */
  until?: Date | number | string;
  /** At least this severity: `WARN` returns WARN and CRITICAL. */
  severity?: AuditLevel;
  /** Event type(s), without arguments: `authn_login_fail`. */
  event?: string | readonly string[];
  /** The user the record concerns (`userid`). */
  actor?: string;
  /** Stop after this many records. */
  limit?: number;
}

const rank: Record<AuditLevel, number> = { INFO: 0, WARN: 1, CRITICAL: 2 };

const time = (t: Date | number | string | undefined): number | undefined =>
  t === undefined ? undefined : t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);

/** A predicate for one query, built once. */
export function recordFilter(query: AuditQuery): (record: AuditRecord) => boolean {
  const since = time(query.since);
  const until = time(query.until);
  const minRank = query.severity === undefined ? 0 : rank[query.severity];
  const events =
    query.event === undefined ? undefined : new Set(typeof query.event === 'string' ? [query.event] : query.event);
  return (record) => {
    if (rank[record.level] < minRank) return false;
    if (query.actor !== undefined && record.userid !== query.actor) return false;
    if (events !== undefined) {
      const colon = record.event.indexOf(':');
      if (!events.has(colon < 0 ? record.event : record.event.slice(0, colon))) return false;
    }
    if (since !== undefined || until !== undefined) {
      const ts = Date.parse(record.ts);
      if (since !== undefined && ts < since) return false;
      if (until !== undefined && ts >= until) return false;
    }
    return true;
  };
}
