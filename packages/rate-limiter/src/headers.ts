import { retryAfterSeconds } from '@bulwark/http';
import type { Decision } from './decision.js';
import type { LimitRule } from './algorithms.js';

/**
 * Which rate-limit headers to send:
 * - `'draft-10'` (default): `RateLimit-Policy: "name";q=100;w=60` and `RateLimit: "name";r=42;t=17`
 *   (draft-ietf-httpapi-ratelimit-headers-10, Structured Field Lists, one item per limit);
 * - `'draft-8'`: the same fields as draft-10 (drafts 8 to 10 share the `q`, `w`, `r` and `t` parameters; the
 *   optional partition key `pk` is not sent, since it would publish a hash of the client's key);
 * - `'draft-7'`: `RateLimit: limit=100, remaining=42, reset=17` (one dictionary, the binding limit's numbers) and
 *   `RateLimit-Policy: 100;w=60, 1000;w=3600`, as express-rate-limit's `draft-7`;
 * - `'draft-6'`: `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (delay-seconds) and
 *   `RateLimit-Policy: 100;w=60`;
 * - `'legacy'`: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (delay-seconds, not an epoch
 *   time, so client clock skew does not matter);
 * - `false`: none (a 429 still carries `Retry-After`).
 */
export type RateLimitHeaders = 'draft-10' | 'draft-8' | 'draft-7' | 'draft-6' | 'legacy' | false;

/** `w` is whole seconds in the draft: sent only when the window is one. */
function windowParam(windowMs: number): string {
  return windowMs % 1000 === 0 ? `;w=${windowMs / 1000}` : '';
}

/** Seconds until the limit lets this client through again (when refused) or is fully restored (when allowed). */
function resetSeconds(d: Decision): number | undefined {
  const ms = d.allowed ? d.resetMs : d.retryAfterMs;
  return ms === Infinity ? undefined : retryAfterSeconds(ms);
}

/**
 * The `RateLimit` item of a decision. Its `"name";r=` prefix is built once per rule: this runs on every request,
 * and each part of the template is one more string concatenation.
 */
function draft10Item(prefix: string, d: Decision): string {
  const t = resetSeconds(d);
  // Policy names are restricted to a token-like alphabet at construction, so no sf-string escaping is needed.
  return t === undefined ? `${prefix}${d.remaining}` : `${prefix}${d.remaining};t=${t}`;
}

function draft10Field(prefixes: readonly string[], d: Decision): string {
  const all = d.decisions;
  if (all === undefined) return draft10Item(prefixes[0]!, d);
  let field = draft10Item(prefixes[0]!, all[0]!);
  for (let i = 1; i < all.length; i++) field += `, ${draft10Item(prefixes[i]!, all[i]!)}`;
  return field;
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
  if (kind === 'draft-10' || kind === 'draft-8') {
    const policy = rules.map((r) => `"${r.name}";q=${r.limit}${windowParam(r.windowMs)}`).join(', ');
    // A limiter's decisions come in the order of its rules.
    const prefixes = rules.map((r) => `"${r.name}";r=`);
    return (d) => ({ 'ratelimit-policy': policy, ratelimit: draft10Field(prefixes, d) });
  }
  const quotaPolicy = rules.map((r) => `${r.limit}${windowParam(r.windowMs)}`).join(', ');
  if (kind === 'draft-7') {
    return (d) => ({
      ratelimit: `limit=${d.limit}, remaining=${d.remaining}, reset=${resetSeconds(d) ?? retryAfterSeconds(d.windowMs)}`,
      'ratelimit-policy': quotaPolicy,
    });
  }
  if (kind === 'draft-6') {
    const policy = quotaPolicy;
    return (d) => ({
      'ratelimit-limit': d.limit,
      'ratelimit-remaining': d.remaining,
      'ratelimit-reset': resetSeconds(d) ?? retryAfterSeconds(d.windowMs),
      'ratelimit-policy': policy,
    });
  }
  return (d) => ({
    'x-ratelimit-limit': d.limit,
    'x-ratelimit-remaining': d.remaining,
    'x-ratelimit-reset': resetSeconds(d) ?? retryAfterSeconds(d.windowMs),
  });
}
