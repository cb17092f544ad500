import { z } from 'zod';
import { problemReply, type OutcomeHeaders, type RespondOutcome } from '@bulwark/http';

/** When something is deprecated and retired, and where its policies are documented. */
export interface DeprecationInfo {
  /** When it was (or will be) deprecated: epoch ms. */
  readonly deprecatedAt?: number;
  /** When it stops answering: epoch ms. */
  readonly sunsetAt?: number;
  /** A page about the deprecation (`Link: <…>; rel="deprecation"`). */
  readonly deprecationLink?: string;
  /** A page about the retirement policy (`Link: <…>; rel="sunset"`). */
  readonly sunsetLink?: string;
}

/**
 * The response headers announcing a deprecation, computed once: `Deprecation: @<epoch seconds>` (RFC 9745, a
 * Structured Fields date), `Sunset: <HTTP-date>` (RFC 8594) and `Link` with `rel="deprecation"` / `rel="sunset"`.
 * Empty when there is nothing to announce.
 *
 * @example
 * ```ts
 * deprecationHeaders({ deprecatedAt: Date.parse('2023-06-30T23:59:59Z'), sunsetAt: Date.parse('2024-06-30T23:59:59Z') });
 * // { deprecation: '@1688169599', sunset: 'Sun, 30 Jun 2024 23:59:59 GMT' }
 * ```
 */
export function deprecationHeaders(info: DeprecationInfo): Record<string, string> {
  const headers: Record<string, string> = {};
  if (info.deprecatedAt !== undefined) headers.deprecation = `@${Math.floor(info.deprecatedAt / 1000)}`;
  if (info.sunsetAt !== undefined) headers.sunset = new Date(info.sunsetAt).toUTCString();
  const links: string[] = [];
  if (info.deprecationLink !== undefined) links.push(`<${info.deprecationLink}>; rel="deprecation"; type="text/html"`);
  if (info.sunsetLink !== undefined) links.push(`<${info.sunsetLink}>; rel="sunset"; type="text/html"`);
  if (links.length > 0) headers.link = links.join(', ');
  return headers;
}

/** The headers as an outcome carries them, or `undefined` when there are none (so no object is spread per request). */
export function headersOrNone(headers: Record<string, string>): OutcomeHeaders | undefined {
  return Object.keys(headers).length === 0 ? undefined : Object.freeze(headers);
}

/** A date option: a `Date`, epoch ms, or ISO text; epoch ms once parsed. */
export const dateSchema = z.union([z.date(), z.number(), z.string()]).transform((value, ctx) => {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `not a date: ${String(value)}` });
    return z.NEVER;
  }
  return ms;
});

/**
 * The answer after a sunset: 410 Gone as problem+json (with `extra` members), or a 308 redirect when `redirect` is
 * set; either way with the deprecation headers. Built once, at construction.
 */
export function goneOutcome(
  headers: Record<string, string>,
  detail: string,
  redirect: string | undefined,
  extra: Record<string, unknown> = {},
): RespondOutcome {
  if (redirect !== undefined) {
    return { kind: 'respond', status: 308, headers: { ...headers, location: redirect, 'cache-control': 'no-store' } };
  }
  return { kind: 'respond', ...problemReply({ title: 'Gone', status: 410, detail, ...extra }, { headers }) };
}
