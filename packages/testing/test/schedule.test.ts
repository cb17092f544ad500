import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compose, timeout } from '@bulwark/core';
import { constant, retry } from '@bulwark/retry';
import { assertIdle, outcomeSchedule, runSchedule, VirtualClock, type ScheduledFailure } from '../src/index.js';

describe('runSchedule', () => {
  it('plays each attempt as scheduled, on the virtual clock, and reports how and when each call ended', async () => {
    const clock = new VirtualClock();
    const policy = retry({ maxAttempts: 3, backoff: constant(100), clock });
    const results = await runSchedule({
      clock,
      schedule: [
        {
          at: 0,
          attempts: [
            { kind: 'failure', delayMs: 10 },
            { kind: 'success', delayMs: 5, value: 'second' },
          ],
        },
        { at: 50, attempts: [{ kind: 'retry-after', delayMs: 0, retryAfterMs: 1000 }] },
        { at: 60, attempts: [1, 2, 3].map(() => ({ kind: 'failure' as const, delayMs: 1 })) },
      ],
      run: (upstream) => policy.execute(({ signal }) => upstream(signal)),
    });
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: 'second', settledAt: 115, attempts: 2 });
    // Retry-After pushback: the second attempt waits 1000 ms (+1, retry's padding), not the 100 ms backoff.
    expect(results[1]).toMatchObject({ status: 'fulfilled', settledAt: 1051, attempts: 2 });
    expect(results[2]).toMatchObject({ status: 'rejected', attempts: 3, settledAt: 263 });
    expect((results[2]!.reason as ScheduledFailure).message).toBe('call 2 attempt 3 failed');
  });

  it('a hang stays pending without a timeout, and is ended by one', async () => {
    const clock = new VirtualClock();
    const schedule = [{ at: 0, attempts: [{ kind: 'hang' as const }] }];
    const bare = await runSchedule({ clock, schedule, run: (upstream) => upstream() });
    expect(bare[0]!.status).toBe('pending');
    const guarded = compose(timeout(200, { clock }));
    const timed = await runSchedule({
      clock,
      schedule,
      run: (upstream) => guarded.execute(({ signal }) => upstream(signal)),
    });
    expect(timed[0]).toMatchObject({ status: 'rejected', settledAt: clock.now() });
  });

  it('property: retry + timeout settle every generated call, within the bound they promise, leaving nothing behind', async () => {
    await fc.assert(
      fc.asyncProperty(outcomeSchedule({ maxCalls: 8, horizonMs: 2000 }), async (schedule) => {
        const clock = new VirtualClock();
        const caller = new AbortController();
        const policy = compose(
          retry({ maxAttempts: 3, backoff: constant(50), retryAfter: false, clock }),
          timeout(300, { clock }),
        );
        const results = await runSchedule({
          clock,
          schedule,
          run: (upstream) => policy.execute(({ signal }) => upstream(signal), caller.signal),
        });
        for (const r of results) {
          expect(r.status).not.toBe('pending');
          expect(r.attempts).toBeLessThanOrEqual(3);
          expect(r.settledAt! - r.at).toBeLessThanOrEqual(3 * 300 + 2 * 50);
        }
        assertIdle({ clock, signals: [caller.signal] });
      }),
      { numRuns: 150 },
    );
  });
});

describe('assertIdle', () => {
  it('names timers left armed and abort listeners left on a signal', () => {
    const clock = new VirtualClock();
    clock.setTimeout(() => {}, 10);
    const controller = new AbortController();
    controller.signal.addEventListener('abort', () => {});
    expect(() => assertIdle({ clock, signals: [controller.signal] })).toThrow(
      'not idle after the run: 1 timer(s) still armed on the virtual clock; signal 0 still has 1 abort listener(s)',
    );
    expect(() => assertIdle({ clock: new VirtualClock(), signals: [new AbortController().signal] })).not.toThrow();
  });
});
