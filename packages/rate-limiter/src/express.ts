import type { RequestHandler } from 'express';
import { toExpress } from '@bulwark/http/express';
import type { Decision } from './decision.js';
import { rateLimitGuard, type RateLimitOptions } from './rate-limit.js';
import type { StoreMode } from './store.js';

declare global {
  // Express's own way to type request properties (@types/express declares the global `Express` namespace).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The rate-limit decision for this request (with the default `requestPropertyName`). */
      rateLimit?: Decision;
    }
  }
}

/**
 * Express middleware (4 and 5): limits requests per client, sets the IETF `RateLimit` headers, and answers
 * refused requests with 429 + `Retry-After`. The decision is `req.rateLimit` (and `res.locals.rateLimit`). For a per-route limit, mount it
 * on the route.
 *
 * @example
 * ```ts
 * import { rateLimiter } from '@bulwark/rate-limiter';
 * import { rateLimit } from '@bulwark/rate-limiter/express';
 * app.use(rateLimit({ limiter: rateLimiter({ limit: 100, windowMs: 60_000 }), clientIp: { trustProxy: 1 } }));
 * app.post('/login', rateLimit({ limiter: logins, countIf: (status) => status >= 400 }), login);
 * ```
 */
export const rateLimit = <M extends StoreMode>(options: RateLimitOptions<M>): RequestHandler =>
  toExpress(rateLimitGuard(options));
