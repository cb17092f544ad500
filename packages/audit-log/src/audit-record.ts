import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { capString, redactString, redactValue, type RedactLimits } from './redactor.js';
import { defaultLevel, type AuditEventType, type AuditLevel } from './vocabulary.js';

/**
 * One security event to record: what happened (`event`, with the vocabulary's arguments), and the OWASP
 * when / where / who / what fields that apply. Only `event` is required.
 */
export interface AuditEvent {
  /** The event type: an OWASP Logging Vocabulary name (`authn_login_fail`) or your own (`lower_snake_case`). */
  event: AuditEventType;
  /** The vocabulary's arguments, written after the type: `authn_login_fail_max:joebob1,3`. */
  args?: readonly (string | number)[];
  /** Severity. Default: the vocabulary's level for the event, else INFO. */
  level?: AuditLevel;
  /** A sentence for a human reader. */
  description?: string;
  /** When the event happened, when that is not now (a Date, ms since the epoch, or ISO 8601 text). */
  eventTs?: Date | number | string;
  /** The interaction id (the request id), to correlate with other logs. */
  requestId?: string;
  /** The client's address. */
  sourceIp?: string;
  /** Who: the user id the event concerns. */
  user?: string;
  /** What kind of user: `customer`, `admin`, `service`... */
  userType?: string;
  /** A session id: never written as given, only as a keyed hash. */
  session?: string;
  /** What was attempted: `login`, `read`, `delete`... */
  action?: string;
  /** What it was attempted on: a resource id, a path, a table. */
  object?: string;
  /** How it ended: `success`, `failure`, or your own word. */
  result?: 'success' | 'failure' | (string & {});
  /** Why it ended that way. */
  reason?: string;
  /** HTTP status of the response, if any. */
  status?: number;
  userAgent?: string;
  method?: string;
  /** Request URI: path and query. */
  uri?: string;
  /** Anything else. Keys that name secrets are redacted at any depth; strings are cleaned and capped. */
  data?: Readonly<Record<string, unknown>>;
}

/** A record as written: one JSON line, fields in this order, absent fields left out. */
export interface AuditRecord {
  /** Position in the log, from 0, without gaps. */
  readonly seq: number;
  /** When it was written: ISO 8601 with its UTC offset (`+00:00`). */
  readonly ts: string;
  readonly appid: string;
  readonly appversion?: string;
  readonly hostname: string;
  /** `type[:args]`, as the OWASP vocabulary writes it. */
  readonly event: string;
  readonly level: AuditLevel;
  readonly description?: string;
  readonly event_ts?: string;
  readonly request_id?: string;
  readonly source_ip?: string;
  readonly userid?: string;
  readonly user_type?: string;
  /** A keyed SHA-256 of the session id (hex, 32 characters). */
  readonly session?: string;
  readonly action?: string;
  readonly object?: string;
  readonly result?: string;
  readonly reason?: string;
  readonly status?: number;
  readonly useragent?: string;
  readonly request_method?: string;
  readonly request_uri?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

const text = z.string();
const eventTsSchema = z.union([
  z.date().refine((d) => !Number.isNaN(d.getTime()), 'must be a valid date'),
  z.number().finite(),
  z.iso.datetime({ offset: true }),
]);

/** The shape an {@link AuditEvent} must have. */
export const auditEventSchema = z
  .object({
    event: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be lower_snake_case, at most 64 characters'),
    args: z
      .array(z.union([text, z.number().finite()]))
      .max(16)
      .optional(),
    level: z.enum(['INFO', 'WARN', 'CRITICAL']).optional(),
    description: text.optional(),
    eventTs: eventTsSchema.optional(),
    requestId: text.optional(),
    sourceIp: text.optional(),
    user: text.optional(),
    userType: text.optional(),
    session: text.optional(),
    action: text.optional(),
    object: text.optional(),
    result: text.optional(),
    reason: text.optional(),
    status: z.number().int().min(100).max(999).optional(),
    userAgent: text.optional(),
    method: text.optional(),
    uri: text.optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** Turns a time into ISO 8601 with an explicit UTC offset. */
export function isoWithOffset(ms: number): string {
  // Records written in one millisecond share their timestamp: format it once.
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = `${new Date(ms).toISOString().slice(0, -1)}+00:00`;
  }
  return lastIso;
}
let lastMs = Number.NaN;
let lastIso = '';

// JSON.stringify escapes every control character below U+0020 (CR, LF, ESC...) but leaves U+0085, U+2028 and
// U+2029 raw; some log readers split lines on them, so a value could forge a record boundary.
const LINE_BREAKERS = /[\u0085\u2028\u2029]/g;
const escapeLineBreaker = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Serialises a record as one line, with nothing in it a line-oriented reader could split on. */
export function recordLine(record: AuditRecord): string {
  const line = JSON.stringify(record);
  return LINE_BREAKERS.test(line) ? line.replace(LINE_BREAKERS, escapeLineBreaker) : line;
}

/** Fixed fields of every record, and how to hash session ids. */
export interface RecordContext {
  readonly appid: string;
  readonly appversion: string | undefined;
  readonly hostname: string;
  readonly sessionKey: Buffer | undefined;
  readonly limits: RedactLimits;
}

function hashSession(session: string, key: Buffer | undefined): string {
  const h = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  return h.update(session).digest('hex').slice(0, 32);
}

function eventTime(value: Date | number | string): string {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  return isoWithOffset(ms);
}

/**
 * Builds the record for a valid event. Every field is capped; free text (description, reason, action, object,
 * result, the URI, the event's arguments, strings in `data`) is also cleaned of credentials and card numbers.
 * Identifiers (user, address, request id, user agent, method) are only capped: scanning them costs time on every
 * record and they do not carry secrets. Control characters are escaped by JSON itself.
 */
export function buildRecord(event: AuditEvent, seq: number, now: number, ctx: RecordContext): AuditRecord {
  const max = ctx.limits.maxFieldLength;
  const clean = (value: string | undefined): string | undefined =>
    value === undefined ? undefined : redactString(value, max);
  const id = (value: string | undefined): string | undefined =>
    value === undefined ? undefined : capString(value, max);
  const args =
    event.args === undefined || event.args.length === 0
      ? ''
      : `:${event.args.map((a) => (typeof a === 'number' ? String(a) : a.replace(/[,:]/g, '_'))).join(',')}`;
  const record: Record<string, unknown> = {
    seq,
    ts: isoWithOffset(now),
    appid: ctx.appid,
    appversion: ctx.appversion,
    hostname: ctx.hostname,
    event: args === '' ? event.event : `${event.event}${clean(args)!}`,
    level: event.level ?? defaultLevel(event.event),
    description: clean(event.description),
    event_ts: event.eventTs === undefined ? undefined : eventTime(event.eventTs),
    request_id: id(event.requestId),
    source_ip: id(event.sourceIp),
    userid: id(event.user),
    user_type: id(event.userType),
    session: event.session === undefined ? undefined : hashSession(event.session, ctx.sessionKey),
    action: clean(event.action),
    object: clean(event.object),
    result: clean(event.result),
    reason: clean(event.reason),
    status: event.status,
    useragent: id(event.userAgent),
    request_method: id(event.method),
    request_uri: clean(event.uri),
    data: event.data === undefined ? undefined : redactValue(event.data, ctx.limits),
  };
  return record as unknown as AuditRecord;
}

/**
 * The record written in place of an event that failed validation: the problem, and what could be read of the
 * input (redacted like any data). A bad call never loses the event it tried to record.
 */
export function invalidRecord(input: unknown, problem: string, seq: number, now: number, ctx: RecordContext) {
  const data = { input: redactValue(input, ctx.limits) };
  return buildRecord({ event: 'audit_invalid', description: problem, data }, seq, now, ctx);
}
