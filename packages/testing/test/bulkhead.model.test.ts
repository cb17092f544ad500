import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bulkhead, isBulkheadRejectedError } from '@bulwark/bulkhead';
import { bulkheadModel, VirtualClock, type BulkheadModelOutcome } from '../src/index.js';

// @bulwark/bulkhead's model test, against the public reference simulation.
describe('bulkhead against its reference model', () => {
  it('model: admissions, FIFO order, rejections and timings match a reference simulation; never over the limit (property)', async () => {
    const callArb = fc.record({
      at: fc.integer({ min: 0, max: 30 }).map((n) => n * 4),
      duration: fc.integer({ min: 0, max: 15 }).map((n) => n * 4 + 1),
      abortAfter: fc.option(
        fc.integer({ min: 0, max: 15 }).map((n) => n * 4 + 2),
        { nil: undefined },
      ),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(callArb, { minLength: 1, maxLength: 14, selector: (c) => c.at }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 5 }),
        fc.option(
          fc.integer({ min: 0, max: 10 }).map((n) => n * 4 + 3),
          { nil: undefined },
        ),
        async (unsorted, max, maxQueue, queueTimeout) => {
          const calls = [...unsorted].sort((a, b) => a.at - b.at);
          const expected = bulkheadModel(calls, { maxConcurrent: max, maxQueue, queueTimeoutMs: queueTimeout });
          fc.pre(!expected.ambiguous);
          const clock = new VirtualClock();
          const policy = bulkhead({ maxConcurrent: max, maxQueue, queueTimeoutMs: queueTimeout, clock });
          let running = 0;
          let peak = 0;
          const actual: { outcome?: BulkheadModelOutcome; start?: number }[] = calls.map(() => ({}));
          calls.forEach((c, i) => {
            clock.setTimeout(() => {
              const caller = new AbortController();
              if (c.abortAfter !== undefined) clock.setTimeout(() => caller.abort(new Error('abort')), c.abortAfter);
              policy
                .execute(
                  () =>
                    new Promise<void>((resolve) => {
                      actual[i]!.start = clock.now();
                      running++;
                      peak = Math.max(peak, running);
                      clock.setTimeout(() => (running--, resolve()), c.duration);
                    }),
                  caller.signal,
                )
                .then(
                  () => (actual[i]!.outcome = 'ok'),
                  (e: unknown) => (actual[i]!.outcome = isBulkheadRejectedError(e) ? e.reason : 'aborted'),
                );
            }, c.at);
          });
          await clock.runAll();
          expect(actual).toEqual(expected.result);
          expect(expected.result.every((r) => r.outcome !== undefined)).toBe(true);
          expect(peak).toBe(expected.peak);
          expect(peak).toBeLessThanOrEqual(max);
          expect(policy.active).toBe(0);
          expect(policy.queued).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
