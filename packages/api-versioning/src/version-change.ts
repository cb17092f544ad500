import type { ResponseHeaders } from '@bulwark/http';

/** What a request transform sees and may replace: the parsed body and the query. */
export interface VersionedRequest {
  readonly body: unknown;
  readonly query: Readonly<Record<string, unknown>>;
}

/**
 * One backwards-incompatible change, introduced in `version` (Stripe's model): handlers are written for the newest
 * version, and a caller on an older version has its request rewritten up through every newer change (oldest first)
 * and the response rewritten back down (newest first).
 */
export interface VersionChange {
  /** The version that introduced the change: callers on older versions get it translated. */
  readonly version: string;
  /** What changed, for the changelog and the deprecations endpoint. */
  readonly description: string;
  /** Rewrites an older caller's request into the newer shape. Return the parts to replace. */
  readonly request?: (req: VersionedRequest) => { body?: unknown; query?: Record<string, unknown> };
  /** Rewrites the newer response body into the older shape. */
  readonly response?: (body: unknown, status: number, headers: ResponseHeaders) => unknown;
}

/**
 * Types a version change (and returns it as given; `createVersioning` validates it), so a list of them reads as
 * the API's changelog.
 *
 * @example
 * ```ts
 * const splitName = versionChange({
 *   version: '2024-09-30',
 *   description: 'customer.name split into first_name and last_name',
 *   request: ({ body }) => ({ body: splitNameIn(body) }),
 *   response: (body) => joinNameOut(body),
 * });
 * ```
 */
export function versionChange(change: VersionChange): VersionChange {
  return change;
}
