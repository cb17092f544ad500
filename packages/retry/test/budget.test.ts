import { describe, expect, it } from 'vitest';
import { VirtualClock } from '@bulwark/core/testing';
import { constant, isRetryBudgetExhaustedError, retry, retryBudget } from '@bulwark/retry';

const failing = () => Promise.reject(new Error('dependency down'));

async function drain(clock: VirtualClock, ps: Promise<unknown>[]) {
  const all = Promise.allSettled(ps);
  await clock.runAll();
  return all;
}

describe('retry budgets', () => {
  it('ratio budget: a storm of failures gets at most reserve + ratio × calls retries, shared across policies', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ ratio: 0.2, minPerSecond: 1, ttlMs: 10_000, clock });
    let attempts = 0;
    const fn = () => (attempts++, failing());
    const a = retry({ maxAttempts: 5, backoff: constant(1), budget, clock });
    const b = retry({ maxAttempts: 5, backoff: constant(1), budget, clock });
    const results = await drain(
      clock,
      Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).execute(fn)),
    );
    const retries = attempts - 100;
    expect(retries).toBeLessThanOrEqual(10 + 0.2 * 100);
    expect(retries).toBeGreaterThanOrEqual(29); // the budget is used, not refused outright
    const exhausted = results.filter((r) => r.status === 'rejected' && isRetryBudgetExhaustedError(r.reason));
    expect(exhausted.length).toBeGreaterThan(0);
    const first = (exhausted[0] as PromiseRejectedResult).reason as Error;
    expect(first.cause).toEqual(new Error('dependency down'));
  });

  it('ratio budget: calls and retries expire after ttl, also across a long idle gap', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ ratio: 0.5, minPerSecond: 0, ttlMs: 1_000, clock });
    for (let i = 0; i < 10; i++) budget.recordCall();
    expect(budget.available).toBe(5);
    expect(budget.tryAcquireRetry()).toBe(true);
    expect(budget.available).toBe(4);
    await clock.advance(999);
    expect(budget.available).toBe(4);
    await clock.advance(5 * 60_000); // idle for minutes: nothing from before may linger
    expect(budget.available).toBe(0);
    expect(budget.tryAcquireRetry()).toBe(false);
  });

  it('token budget (gRPC A6): failures drain it, retries stop at half, successes refill it', () => {
    const budget = retryBudget({ maxTokens: 10, tokenRatio: 0.5 });
    for (let i = 0; i < 5; i++) budget.recordOutcome(true);
    expect(budget.tryAcquireRetry()).toBe(false);
    budget.recordOutcome(false);
    expect(budget.tryAcquireRetry()).toBe(true);
    for (let i = 0; i < 100; i++) budget.recordOutcome(false);
    expect(budget.available).toBe(5);
  });

  it('token budget in a policy: once drained, errors surface as RetryBudgetExhaustedError', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ maxTokens: 4, tokenRatio: 1 });
    const policy = retry({ maxAttempts: 10, backoff: constant(1), budget, clock });
    const [r] = await drain(clock, [policy.execute(failing)]);
    expect(r!.status).toBe('rejected');
    const error = (r as PromiseRejectedResult).reason as { attempts: number; code: string };
    expect(error.code).toBe('BULWARK_RETRY_BUDGET');
    expect(error.attempts).toBe(2); // 4 tokens: the 1st failure leaves 3 (> 2: retry), the 2nd leaves 2 (stop)
  });

  it('rejects bad options naming the field', () => {
    expect(() => retryBudget({ ratio: -1 })).toThrow(expect.objectContaining({ field: 'ratio' }));
    expect(() => retryBudget({ maxTokens: 0, tokenRatio: 1 })).toThrow(expect.objectContaining({ field: 'maxTokens' }));
  });
});
