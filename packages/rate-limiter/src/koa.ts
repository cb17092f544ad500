import type { Middleware } from 'koa';
import { toKoa } from '@bulwark/http/koa';
import { rateLimitGuard, type RateLimitOptions } from './rate-limit.js';
import type { StoreMode } from './store.js';

/**
 * Koa middleware (2 and 3): limits requests per client, sets the IETF `RateLimit` headers, and answers refused
 * requests with 429 + `Retry-After`. The decision is `ctx.state.rateLimit`. For a per-route limit, mount it on the
 * route (e.g. `router.post('/login', rateLimit(...), login)`).
 *
 * @example
 * ```ts
 * import { rateLimiter } from '@bulwark/rate-limiter';
 * import { rateLimit } from '@bulwark/rate-limiter/koa';
 * app.use(rateLimit({ limiter: rateLimiter({ limit: 100, windowMs: 60_000 }) }));
 * ```
 */
export const rateLimit = <M extends StoreMode>(options: RateLimitOptions<M>): Middleware =>
  toKoa(rateLimitGuard(options));
