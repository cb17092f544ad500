import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { ExecuteContext } from '@bulwark/core';
import { constant, retry } from '@bulwark/retry';
import { retryModel, VirtualClock } from '../src/index.js';

/** A function whose attempt n fails when plan[n-1] is false; each attempt takes `ms` on the clock. */
function planned(clock: VirtualClock, plan: readonly boolean[], ms: number) {
  const starts: number[] = [];
  const fn = (ctx: ExecuteContext) => {
    starts.push(clock.now());
    const ok = plan[ctx.attempt - 1] ?? true;
    return new Promise<string>((resolve, reject) =>
      clock.setTimeout(() => (ok ? resolve(`ok@${ctx.attempt}`) : reject(new Error(`fail@${ctx.attempt}`))), ms),
    );
  };
  return { fn, starts };
}

// @bulwark/retry's model test, against the public reference loop.
it('retry: calls, result and timing match the reference loop, never starting past maxElapsedMs (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 0, max: 50 }),
      fc.integer({ min: 0, max: 20 }),
      fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
      async (plan, maxAttempts, delayMs, workMs, maxElapsedMs) => {
        const clock = new VirtualClock();
        const { fn, starts } = planned(clock, plan, workMs);
        const outcome: { value?: string; error?: unknown; at?: number } = {};
        const done = retry({ maxAttempts, backoff: constant(delayMs), maxElapsedMs, clock })
          .execute(fn)
          .then(
            (value) => Object.assign(outcome, { value, at: clock.now() }),
            (error: unknown) => Object.assign(outcome, { error, at: clock.now() }),
          );
        await clock.runAll();
        await done;
        const expected = retryModel({ plan, maxAttempts, delayMs, workMs, maxElapsedMs });
        expect(starts).toEqual(expected.startedAt);
        if (expected.succeeded) expect(outcome.value).toBe(`ok@${expected.attempts}`);
        else expect(outcome.error).toEqual(new Error(`fail@${expected.attempts}`));
        expect(outcome.at).toBe(expected.settledAt);
        if (maxElapsedMs !== undefined) for (const t of starts) expect(t).toBeLessThanOrEqual(maxElapsedMs);
      },
    ),
    { numRuns: 300 },
  );
});

it('retryModel: three attempts, the last succeeding', () => {
  expect(retryModel({ plan: [false, false, true], maxAttempts: 3, delayMs: 100, workMs: 10 })).toEqual({
    attempts: 3,
    succeeded: true,
    settledAt: 230,
    startedAt: [0, 110, 220],
  });
});
