import { isBulwarkError } from '@bulwark/core';
import { type CallOutcome } from '@bulwark/core/internal';

/**
 * Parses an HTTP `Retry-After` value: delay-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`).
 * Returns milliseconds to wait (0 for a date in the past), or `undefined` for anything else.
 *
 * @param nowMs - wall-clock time for dates, default `Date.now()`.
 *
 * @example
 * ```ts
 * parseRetryAfter('30'); // 30000
 * parseRetryAfter(new Date(Date.now() + 5_000).toUTCString()); // ≈ 5000
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP-date: only the IMF-fixdate and the two obsolete forms have a weekday and a time; Date.parse reads all three.
  if (!/^[A-Za-z]{3},? /.test(text) && !/^[A-Za-z]+day, /.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Anything with a `Retry-After` header: a fetch `Response`, or an object with a `headers.get`. */
export interface HasHeaders {
  readonly headers: {
    /** A header's value, `null` or `undefined` when absent. */ get(name: string): string | null | undefined;
  };
}

function hasHeaders(value: unknown): value is HasHeaders {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { headers?: { get?: unknown } }).headers?.get === 'function'
  );
}

/**
 * The `Retry-After` of a fetch `Response` (or anything with `headers.get`), in milliseconds.
 *
 * @example
 * ```ts
 * const res = await fetch(url);
 * if (res.status === 429) await sleep(retryAfterFromResponse(res) ?? 1_000);
 * ```
 */
export function retryAfterFromResponse(response: HasHeaders, nowMs?: number): number | undefined {
  return parseRetryAfter(response.headers.get('retry-after'), nowMs);
}

/**
 * The server's pushback in an outcome, in milliseconds, if it carries one: a Bulwark error's `retryAfterMs` (an
 * open circuit, a rate limit), a numeric `retryAfterMs` on any error, or a `Retry-After` header on a response value
 * or on an error's `response`.
 */
export function retryAfterHint(outcome: CallOutcome<unknown>): number | undefined {
  if (outcome.kind === 'value') return hasHeaders(outcome.value) ? retryAfterFromResponse(outcome.value) : undefined;
  const error = outcome.error;
  if (isBulwarkError(error) && error.retryAfterMs !== undefined) return error.retryAfterMs;
  if (typeof error !== 'object' || error === null) return undefined;
  const ms = (error as { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof ms === 'number' && ms >= 0) return ms;
  const response = (error as { response?: unknown }).response;
  return hasHeaders(response) ? retryAfterFromResponse(response) : undefined;
}
