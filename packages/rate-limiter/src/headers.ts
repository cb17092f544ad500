import type { Decision } from './decision.js';
import type { LimitRule } from './algorithms.js';

/**
 * Which rate-limit headers to send:
 * - `'draft-10'` (default): `RateLimit-Policy: "name";q=100;w=60` and `RateLimit: "name";r=42;t=17`
 *   (draft-ietf-httpapi-ratelimit-headers-10, Structured Field Lists, one item per limit);
 * - `'draft-6'`: `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (delay-seconds) and
 *   `RateLimit-Policy: 100;w=60`;
 * - `'legacy'`: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (delay-seconds, not an epoch
 *   time, so client clock skew does not matter);
 * - `false`: none (a 429 still carries `Retry-After`).
 */
export type RateLimitHeaders = 'draft-10' | 'draft-6' | 'legacy' | false;

/** Whole seconds, rounded up: a client waiting this long is never early. */
export function delaySeconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

/** `w` is whole seconds in the draft: sent only when the window is one. */
function windowParam(windowMs: number): string {
  return windowMs % 1000 === 0 ? `;w=${windowMs / 1000}` : '';
}

/** Seconds until the limit lets this client through again (when refused) or is fully restored (when allowed). */
function resetSeconds(d: Decision): number | undefined {
  const ms = d.allowed ? d.resetMs : d.retryAfterMs;
  return ms === Infinity ? undefined : delaySeconds(ms);
}

function draft10Item(d: Decision): string {
  const t = resetSeconds(d);
  // Policy names are restricted to a token-like alphabet at construction, so no sf-string escaping is needed.
  return t === undefined ? `"${d.policy}";r=${d.remaining}` : `"${d.policy}";r=${d.remaining};t=${t}`;
}

/**
 * Writes the headers for a decision. Returns a function of the decision; the parts that never change (the policy
 * field) are built once.
 */
export function headerWriter(
  kind: RateLimitHeaders,
  rules: readonly LimitRule[],
): ((d: Decision) => Record<string, string | number>) | undefined {
  if (kind === false) return undefined;
  if (kind === 'draft-10') {
    const policy = rules.map((r) => `"${r.name}";q=${r.limit}${windowParam(r.windowMs)}`).join(', ');
    return (d) => ({
      'ratelimit-policy': policy,
      ratelimit: d.decisions === undefined ? draft10Item(d) : d.decisions.map(draft10Item).join(', '),
    });
  }
  if (kind === 'draft-6') {
    const policy = rules.map((r) => `${r.limit}${windowParam(r.windowMs)}`).join(', ');
    return (d) => ({
      'ratelimit-limit': d.limit,
      'ratelimit-remaining': d.remaining,
      'ratelimit-reset': resetSeconds(d) ?? delaySeconds(d.windowMs),
      'ratelimit-policy': policy,
    });
  }
  return (d) => ({
    'x-ratelimit-limit': d.limit,
    'x-ratelimit-remaining': d.remaining,
    'x-ratelimit-reset': resetSeconds(d) ?? delaySeconds(d.windowMs),
  });
}
