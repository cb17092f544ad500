import type { Middleware } from 'koa';
import { toKoa } from '@bulwark/http/koa';
import { shedWhenOpenGuard, type ShedWhenOpenOptions } from './shed-when-open.js';

/**
 * Koa middleware: while the breaker is open, requests get 503 + `Retry-After`; 5xx responses count as failures.
 *
 * @example
 * ```ts
 * import { shedWhenOpen } from '@bulwark/circuit-breaker/koa';
 * paymentsRouter.use(shedWhenOpen({ breaker }));
 * ```
 */
export const shedWhenOpen = (options: ShedWhenOpenOptions): Middleware => toKoa(shedWhenOpenGuard(options));
