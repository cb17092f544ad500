// ---- Policy ----
export {
  retry,
  RetryPolicy,
  type GiveUpEvent,
  type GiveUpReason,
  type RetryEvent,
  type RetryOptions,
  type RetryPredicate,
} from './retry.js';

// ---- Backoffs ----
export {
  constant,
  exponential,
  linear,
  type Backoff,
  type ExponentialOptions,
  type Jitter,
  type LinearOptions,
} from './backoff.js';

// ---- Server pushback ----
export { parseRetryAfter, retryAfterFromResponse, retryAfterHint, type HasHeaders } from './retry-after.js';

// ---- Budgets ----
export { retryBudget, type RatioBudgetOptions, type RetryBudget, type TokenBudgetOptions } from './retry-budget.js';

// ---- Errors ----
export { isRetryBudgetExhaustedError, RetryBudgetExhaustedError } from './errors.js';
