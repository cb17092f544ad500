import type { RequestHandler } from 'express';
import { toExpress } from '@bulwark/http/express';
import { shedWhenOpenGuard, type ShedWhenOpenOptions } from './shed-when-open.js';

/**
 * Express middleware: while the breaker is open, requests get 503 + `Retry-After`; 5xx responses count as failures.
 *
 * @example
 * ```ts
 * import { circuitBreaker } from '@bulwark/circuit-breaker';
 * import { shedWhenOpen } from '@bulwark/circuit-breaker/express';
 * app.use('/payments', shedWhenOpen({ breaker: circuitBreaker({ name: 'payments' }) }), paymentsRouter);
 * ```
 */
export const shedWhenOpen = (options: ShedWhenOpenOptions): RequestHandler => toExpress(shedWhenOpenGuard(options));
