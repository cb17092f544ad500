import { BulwarkError, isBulwarkError } from '@bulwark/core';

/**
 * A retry was due but the shared {@link RetryBudget} had none left. `cause` is the failure that would have been
 * retried.
 *
 * @example
 * ```ts
 * try { await policy.execute(call) } catch (e) {
 *   if (isRetryBudgetExhaustedError(e)) log.warn({ err: e.cause }, 'not retried: budget exhausted');
 * }
 * ```
 */
export class RetryBudgetExhaustedError extends BulwarkError {
  declare readonly code: 'BULWARK_RETRY_BUDGET';
  /** Attempts made before the budget said no. */
  readonly attempts: number;

  constructor(cause: unknown, attempts: number) {
    super('BULWARK_RETRY_BUDGET', `Not retried after ${attempts} attempt(s): the retry budget is exhausted`, {
      cause,
    });
    this.attempts = attempts;
  }
}

/**
 * True when `error` is a {@link RetryBudgetExhaustedError} (from any copy of the package).
 *
 * @example
 * ```ts
 * if (isRetryBudgetExhaustedError(err)) metrics.budgetExhausted.inc();
 * ```
 */
export function isRetryBudgetExhaustedError(error: unknown): error is RetryBudgetExhaustedError {
  return isBulwarkError(error, 'BULWARK_RETRY_BUDGET');
}
