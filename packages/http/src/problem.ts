import type { OutcomeHeaders, Reply } from './contract.js';

/** IANA's registered problem types (RFC 9457 registry) that Bulwark's refusals use. */
export const problemTypes = Object.freeze({
  /** 429: a client used more than its quota (rate limits). */
  quotaExceeded: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
  /** 503: the service cannot take the request now (load shedding, an open circuit, a rate-limit store down). */
  temporaryReducedCapacity: 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity',
});

/** An RFC 9457 problem object: the standard members plus any extension members. */
export interface ProblemDetails {
  /** A URI naming the problem type. Default `about:blank` (then `title` should be the status's reason phrase). */
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

/**
 * `Retry-After` in delay-seconds for a wait in milliseconds: rounded up, so a client that waits that long is never
 * early; 0 for no wait. The one rounding every Bulwark refusal uses.
 *
 * @example
 * ```ts
 * retryAfterSeconds(1_200); // 2
 * ```
 */
export function retryAfterSeconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

/**
 * A problem reply (RFC 9457): `application/problem+json`, `Cache-Control: no-store`, and `Retry-After` when
 * `retryAfterMs` is finite. Every refusal Bulwark answers for is built here.
 *
 * @example
 * ```ts
 * const reply = problemReply(
 *   { type: problemTypes.temporaryReducedCapacity, title: 'Service Unavailable', status: 503, detail: 'Retry later.' },
 *   { retryAfterMs: 5_000 },
 * );
 * ```
 */
export function problemReply(
  problem: ProblemDetails,
  options: { retryAfterMs?: number; headers?: OutcomeHeaders } = {},
): Reply {
  const retryAfter = options.retryAfterMs;
  return {
    status: problem.status,
    headers: {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      ...(retryAfter !== undefined && Number.isFinite(retryAfter)
        ? { 'retry-after': retryAfterSeconds(retryAfter) }
        : {}),
      ...options.headers,
    },
    body: problem.type === undefined ? { type: 'about:blank', ...problem } : problem,
  };
}
