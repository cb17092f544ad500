import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { isTimeoutError, timeout, TimeoutError, type ExecuteContext } from '@bulwark/core';
import { abortSubscriberCount } from '@bulwark/core/internal';
import { VirtualClock } from '@bulwark/core/testing';

/** A function that settles after `ms` on the clock, and rejects early with the abort reason if it honours it. */
function work(clock: VirtualClock, ms: number, opts: { fail?: boolean; honoursAbort?: boolean } = {}) {
  return (ctx: ExecuteContext) =>
    new Promise<string>((resolve, reject) => {
      const t = clock.setTimeout(() => (opts.fail ? reject(new Error('fn failed')) : resolve('value')), ms);
      if (opts.honoursAbort) {
        ctx.signal.addEventListener('abort', () => {
          clock.clearTimeout(t);
          reject(ctx.signal.reason as Error);
        });
      }
    });
}

/** Records when and how a promise settled, on the virtual clock. */
function track<T>(clock: VirtualClock, p: Promise<T>) {
  const r: { at?: number; value?: T; error?: unknown } = {};
  p.then(
    (value) => Object.assign(r, { at: clock.now(), value }),
    (error: unknown) => Object.assign(r, { at: clock.now(), error }),
  );
  return r;
}

describe('timeout', () => {
  it('resolves with the value when the function beats the deadline', async () => {
    const clock = new VirtualClock();
    const r = track(clock, timeout(100, { clock }).execute(work(clock, 40)));
    await clock.advance(40);
    expect(r).toEqual({ at: 40, value: 'value' });
  });

  it('never aborts the signal of a call that succeeded, even after the deadline (cockatiel#72)', async () => {
    const clock = new VirtualClock();
    let signal: AbortSignal | undefined;
    const value = timeout(100, { clock }).execute((ctx) => {
      signal = ctx.signal;
      return Promise.resolve('body still readable');
    });
    await expect(value).resolves.toBe('body still readable');
    await clock.advance(1_000);
    expect(signal!.aborted).toBe(false);
  });

  it('cooperative: aborts ctx.signal at the deadline, waits for the function, then rejects with TimeoutError', async () => {
    const clock = new VirtualClock();
    let signal!: AbortSignal;
    const r = track(
      clock,
      timeout(100, { clock }).execute((ctx) => {
        signal = ctx.signal;
        return work(clock, 250)(ctx); // ignores the abort
      }),
    );
    await clock.advance(100);
    expect(signal.aborted).toBe(true);
    expect(isTimeoutError(signal.reason)).toBe(true);
    expect(r.at).toBeUndefined(); // still waiting for the function
    await clock.advance(150);
    expect(r.at).toBe(250);
    expect(r.error).toBeInstanceOf(TimeoutError);
    expect((r.error as TimeoutError).timeoutMs).toBe(100);
  });

  it('cooperative: a function that honours the signal rejects with the very TimeoutError at the deadline', async () => {
    const clock = new VirtualClock();
    let reason: unknown;
    const r = track(
      clock,
      timeout(100, { clock }).execute((ctx) => {
        const p = work(clock, 500, { honoursAbort: true })(ctx);
        ctx.signal.addEventListener('abort', () => (reason = ctx.signal.reason));
        return p;
      }),
    );
    await clock.advance(100);
    expect(r.at).toBe(100);
    expect(r.error).toBe(reason);
  });

  it("cooperative: keeps the function's own late failure as the cause", async () => {
    const clock = new VirtualClock();
    const r = track(clock, timeout(100, { clock }).execute(work(clock, 150, { fail: true })));
    await clock.advance(150);
    expect(isTimeoutError(r.error)).toBe(true);
    expect((r.error as Error).cause).toEqual(new Error('fn failed'));
  });

  it('aggressive: rejects at the deadline without waiting, and swallows the late rejection', async () => {
    const clock = new VirtualClock();
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const r = track(clock, timeout(100, { clock, strategy: 'aggressive' }).execute(work(clock, 300, { fail: true })));
      await clock.advance(100);
      expect(r.at).toBe(100);
      expect(isTimeoutError(r.error)).toBe(true);
      await clock.advance(200);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it.each(['cooperative', 'aggressive'] as const)(
    "%s: the caller's abort rejects at once with the caller's reason and aborts ctx.signal",
    async (strategy) => {
      const clock = new VirtualClock();
      const caller = new AbortController();
      let signal!: AbortSignal;
      const r = track(
        clock,
        timeout(100, { clock, strategy }).execute((ctx) => {
          signal = ctx.signal;
          return work(clock, 500)(ctx);
        }, caller.signal),
      );
      await clock.advance(30);
      const reason = new Error('client went away');
      caller.abort(reason);
      await clock.advance(0);
      expect(r).toMatchObject({ at: 30, error: reason });
      expect(signal.reason).toBe(reason);
      expect(abortSubscriberCount(caller.signal)).toBe(0);
    },
  );

  it("one call's timeout never aborts another call's signal (opossum#780: a shared controller cross-cancels)", async () => {
    const clock = new VirtualClock();
    const policy = timeout(100, { clock });
    const signals: AbortSignal[] = [];
    const slow = policy.execute((ctx) => (signals.push(ctx.signal), work(clock, 150)(ctx)));
    await clock.advance(50);
    const fast = policy.execute((ctx) => (signals.push(ctx.signal), work(clock, 60)(ctx)));
    const slowRejected = expect(slow).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(50); // the first call's deadline
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
    await clock.advance(10);
    await expect(fast).resolves.toBe('value');
    expect(signals[1]!.aborted).toBe(false);
    await clock.advance(100);
    await slowRejected;
  });

  it('rejects without calling the function when the caller signal is already aborted', async () => {
    const caller = new AbortController();
    caller.abort(new Error('already'));
    const fn = vi.fn();
    await expect(timeout(100).execute(fn, caller.signal)).rejects.toThrow('already');
    expect(fn).not.toHaveBeenCalled();
  });

  it('passes synchronous results and throws straight through, holding nothing', async () => {
    const clock = new VirtualClock();
    const policy = timeout(100, { clock });
    await expect(policy.execute(() => 7)).resolves.toBe(7);
    await expect(
      policy.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(policy.queue.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a signal first read after the deadline is already aborted', async () => {
    const clock = new VirtualClock();
    let late: AbortSignal | undefined;
    const p = timeout(100, { clock }).execute(async (ctx) => {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 150));
      late = ctx.signal;
      return 'late';
    });
    const rejected = expect(p).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(150);
    await rejected;
    expect(late?.aborted).toBe(true);
  });

  it('emits onTimeout and publishes on bulwark:core:timeout', async () => {
    const clock = new VirtualClock();
    const policy = timeout(50, { clock, name: 'upstream' });
    const seen = vi.fn();
    const off = policy.onTimeout(seen);
    const p = policy.execute(work(clock, 100)).catch(() => undefined);
    await clock.advance(100);
    await p;
    expect(seen).toHaveBeenCalledWith({ name: 'upstream', timeoutMs: 50, strategy: 'cooperative' });
    off();
  });

  it('rejects bad options with BulwarkConfigError naming the field', () => {
    expect(() => timeout(0)).toThrow(expect.objectContaining({ code: 'BULWARK_INVALID_CONFIG', field: 'ms' }));
    expect(() => timeout(Number.NaN)).toThrow(expect.objectContaining({ field: 'ms' }));
    expect(() => timeout(3e9)).toThrow(/longest timer/);
    expect(() => timeout(10, { strategy: 'eager' as never })).toThrow(expect.objectContaining({ field: 'strategy' }));
    expect(() => timeout(10, { clock: {} as never })).toThrow(expect.objectContaining({ field: 'clock' }));
    expect(() => timeout(10, { colour: 'red' } as never)).toThrow(/colour/);
  });

  it('model: every call settles as a reference model says, however calls overlap', async () => {
    // Times are chosen so no two events coincide: deadlines are multiples of 4, caller aborts 4k+2, durations odd.
    const callArb = fc.record({
      startAt: fc.integer({ min: 0, max: 40 }).map((n) => n * 4),
      duration: fc.integer({ min: 0, max: 100 }).map((n) => 2 * n + 1),
      fail: fc.boolean(),
      honoursAbort: fc.boolean(),
      abortAfter: fc.option(
        fc.integer({ min: 0, max: 60 }).map((n) => 4 * n + 2),
        { nil: undefined },
      ),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }).map((n) => n * 4),
        fc.constantFrom('cooperative' as const, 'aggressive' as const),
        fc.array(callArb, { minLength: 1, maxLength: 12 }),
        async (ms, strategy, calls) => {
          const clock = new VirtualClock();
          const policy = timeout(ms, { clock, strategy });
          const results = calls.map((c) => {
            const r: { at?: number; value?: string; error?: unknown; reason?: Error } = {};
            clock.setTimeout(() => {
              const caller = c.abortAfter === undefined ? undefined : new AbortController();
              r.reason = new Error('caller');
              if (caller) clock.setTimeout(() => caller.abort(r.reason), c.abortAfter!);
              const p = policy.execute(work(clock, c.duration, c), caller?.signal);
              p.then(
                (value) => Object.assign(r, { at: clock.now(), value }),
                (error: unknown) => Object.assign(r, { at: clock.now(), error }),
              );
            }, c.startAt);
            return r;
          });
          await clock.runAll();
          calls.forEach((c, i) => {
            const A = c.abortAfter ?? Infinity;
            const D = c.duration;
            let expected: { at: number; kind: 'value' | 'fnError' | 'timeout' | 'caller' };
            if (D < Math.min(A, ms)) expected = { at: D, kind: c.fail ? 'fnError' : 'value' };
            else if (A < ms) expected = { at: A, kind: 'caller' };
            else if (strategy === 'aggressive') expected = { at: ms, kind: 'timeout' };
            else {
              const settle = c.honoursAbort ? ms : D;
              expected = A < settle ? { at: A, kind: 'caller' } : { at: settle, kind: 'timeout' };
            }
            const r = results[i]!;
            expect(r.at, `call ${i}`).toBe(c.startAt + expected.at);
            const kind =
              r.error === undefined
                ? 'value'
                : r.error === r.reason
                  ? 'caller'
                  : isTimeoutError(r.error)
                    ? 'timeout'
                    : 'fnError';
            expect(kind, `call ${i}`).toBe(expected.kind);
          });
          expect(policy.queue.size).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('timeout leaves nothing behind', () => {
  it('100k calls sharing one caller signal: no listener growth, no MaxListenersExceededWarning, empty queue', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const caller = new AbortController();
      const policy = timeout(10_000);
      const aggressive = timeout(10_000, { strategy: 'aggressive' });
      for (let batch = 0; batch < 100; batch++) {
        // 1,000 in flight at once on the same signal, half reading ctx.signal.
        await Promise.all(
          Array.from({ length: 1_000 }, (_, i) =>
            (i % 2 ? policy : aggressive).execute(async (ctx) => (i % 4 < 2 ? ctx.signal.aborted : i), caller.signal),
          ),
        );
      }
      expect(getEventListeners(caller.signal, 'abort').length).toBeLessThanOrEqual(1);
      expect(abortSubscriberCount(caller.signal)).toBe(0);
      expect(policy.queue.size).toBe(0);
      expect(policy.queue.footprint).toBe(0);
      expect(aggressive.queue.footprint).toBe(0);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a long-running call does not let settled calls pile up behind it', async () => {
    const clock = new VirtualClock();
    const policy = timeout(1_000, { clock });
    const slow = policy.execute(work(clock, 900));
    for (let i = 0; i < 10_000; i++) await policy.execute(() => Promise.resolve(i));
    expect(policy.queue.size).toBe(1);
    expect(policy.queue.footprint).toBeLessThan(200); // compacted, not 10,001
    await clock.advance(900);
    await slow;
    expect(policy.queue.footprint).toBe(0);
    // At most the one shared timer remains, and it lapses by itself.
    expect(clock.pendingTimers).toBeLessThanOrEqual(1);
    await clock.runAll();
    expect(clock.pendingTimers).toBe(0);
  });
});
