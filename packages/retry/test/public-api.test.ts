import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/retry', async () => {
  expect(Object.keys(await import('@bulwark/retry')).sort()).toMatchInlineSnapshot(`
    [
      "RetryBudgetExhaustedError",
      "RetryPolicy",
      "constant",
      "exponential",
      "isRetryBudgetExhaustedError",
      "linear",
      "parseRetryAfter",
      "retry",
      "retryAfterFromResponse",
      "retryAfterHint",
      "retryBudget",
    ]
  `);
});
