import { z } from 'zod';
import { functionSchema, parseOptions } from '@bulwark/core/internal';
import type { Guard, NextOutcome } from '@bulwark/http';
import { dateSchema, deprecationHeaders, goneOutcome, headersOrNone } from './deprecation-headers.js';

const optionsSchema = z
  .object({
    deprecatedAt: dateSchema,
    sunsetAt: dateSchema.optional(),
    deprecationLink: z.url().optional(),
    sunsetLink: z.url().optional(),
    /** After `sunsetAt`: 410 Gone (default), or a 308 redirect to this URL. */
    sunsetRedirect: z.url().optional(),
    now: functionSchema<() => number>().default(() => Date.now),
  })
  .strict()
  .refine((o) => o.sunsetAt === undefined || o.sunsetAt >= o.deprecatedAt, {
    path: ['sunsetAt'],
    message: 'is earlier than deprecatedAt (RFC 9745: a sunset must not precede its deprecation)',
  });

/** Options of {@link routeDeprecation}. */
export type RouteDeprecationOptions = z.input<typeof optionsSchema>;

/**
 * Deprecation of one route (whatever the API version): `Deprecation`, `Sunset` and `Link` headers on its
 * responses, then 410 Gone (or a redirect) from `sunsetAt` on. Mount it on the route with your framework's adapter
 * (`deprecateRoute` from `/express`, `/fastify`, `/koa`).
 *
 * @example
 * ```ts
 * app.get('/v1/search', toExpress(routeDeprecation({ deprecatedAt: '2026-01-01', sunsetAt: '2027-01-01' })), search);
 * ```
 */
export function routeDeprecation(options: RouteDeprecationOptions): Guard {
  const o = parseOptions(optionsSchema, options, 'deprecateRoute()');
  const headers = deprecationHeaders(o);
  const next: NextOutcome = Object.freeze({ kind: 'next' as const, headers: headersOrNone(headers) });
  const gone = goneOutcome(headers, 'this endpoint was retired', o.sunsetRedirect);
  const sunsetAt = o.sunsetAt;
  return sunsetAt === undefined ? () => next : () => (o.now() >= sunsetAt ? gone : next);
}
