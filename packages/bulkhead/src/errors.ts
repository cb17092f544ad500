import { BulwarkError, isBulwarkError } from '@bulwark/core';

/** Why a bulkhead turned a call away. */
export type BulkheadRejection = 'full' | 'queue-timeout';

/**
 * A bulkhead had no slot and no queue room (`full`), or the call waited `queueTimeoutMs` without getting a slot
 * (`queue-timeout`). It says nothing about the dependency's health: a circuit breaker never counts it as a failure.
 *
 * @example
 * ```ts
 * try { await pool.execute(call) } catch (e) {
 *   if (isBulkheadRejectedError(e)) return res.status(503).json({ error: 'busy', reason: e.reason });
 * }
 * ```
 */
export class BulkheadRejectedError extends BulwarkError {
  declare readonly code: 'BULWARK_BULKHEAD_FULL';
  readonly reason: BulkheadRejection;

  constructor(reason: BulkheadRejection, limit: number) {
    super(
      'BULWARK_BULKHEAD_FULL',
      reason === 'full'
        ? `Bulkhead full: ${limit} call(s) running and the queue is full`
        : 'Bulkhead queue timeout: no slot became free in time',
    );
    this.reason = reason;
  }
}

/**
 * True when `error` is a {@link BulkheadRejectedError} (from any copy of the package).
 *
 * @example
 * ```ts
 * if (isBulkheadRejectedError(err)) metrics.shed.inc({ reason: err.reason });
 * ```
 */
export function isBulkheadRejectedError(error: unknown): error is BulkheadRejectedError {
  return isBulwarkError(error, 'BULWARK_BULKHEAD_FULL');
}
