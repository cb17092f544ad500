import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '@bulwark/core/testing';
import { bulkhead, isBulkheadRejectedError } from '@bulwark/bulkhead';

type Result = 'ok' | 'full' | 'queue-timeout' | 'aborted';

interface Call {
  at: number;
  duration: number;
  abortAfter?: number;
}

/**
 * Reference model: a plain discrete-event simulation of the documented semantics. Events of one kind at one time
 * happen in the order they were scheduled, as on the VirtualClock. When events of different kinds coincide (a call
 * finishing at the very instant another's queue time runs out) either order is correct, so the model reports the
 * case as ambiguous and the property skips it.
 */
function model(calls: Call[], max: number, maxQueue: number, queueTimeout: number | undefined) {
  const result: { outcome?: Result; start?: number }[] = calls.map(() => ({}));
  type Ev = { t: number; seq: number; kind: 'arrive' | 'finish' | 'abort' | 'expire'; i: number };
  const events: Ev[] = [];
  let seq = 0;
  const push = (t: number, kind: Ev['kind'], i: number) => events.push({ t, seq: seq++, kind, i });
  calls.forEach((c, i) => push(c.at, 'arrive', i));
  let active = 0;
  let peak = 0;
  const queue: number[] = [];
  let ambiguous = false;
  let last: Ev | undefined;
  const start = (i: number, t: number) => {
    active++;
    peak = Math.max(peak, active);
    result[i]!.start = t;
    push(t + calls[i]!.duration, 'finish', i);
  };
  while (events.length) {
    events.sort((a, b) => a.t - b.t || a.seq - b.seq);
    const e = events.shift()!;
    if (last !== undefined && last.t === e.t && last.kind !== e.kind) ambiguous = true;
    last = e;
    const c = calls[e.i]!;
    if (e.kind === 'arrive') {
      if (c.abortAfter !== undefined) push(e.t + c.abortAfter, 'abort', e.i);
      if (active < max && queue.length === 0) start(e.i, e.t);
      else if (queue.length < maxQueue) {
        queue.push(e.i);
        if (queueTimeout !== undefined) push(e.t + queueTimeout, 'expire', e.i);
      } else result[e.i]!.outcome = 'full';
    } else if (e.kind === 'finish') {
      result[e.i]!.outcome = 'ok';
      active--;
      while (active < max && queue.length) start(queue.shift()!, e.t);
    } else {
      const q = queue.indexOf(e.i);
      if (q === -1) continue; // already running or done: an abort does not touch a running call
      queue.splice(q, 1);
      result[e.i]!.outcome = e.kind === 'abort' ? 'aborted' : 'queue-timeout';
    }
  }
  return { result, peak, ambiguous };
}

describe('bulkhead', () => {
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
          const expected = model(calls, max, maxQueue, queueTimeout);
          fc.pre(!expected.ambiguous);
          const clock = new VirtualClock();
          const policy = bulkhead({ maxConcurrent: max, maxQueue, queueTimeoutMs: queueTimeout, clock });
          let running = 0;
          let peak = 0;
          const actual: { outcome?: Result; start?: number }[] = calls.map(() => ({}));
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

  it('never lets a new caller barge ahead of a queued one (cockatiel re-enters execute in a microtask)', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const order: string[] = [];
    let finishA!: () => void;
    const a = policy.execute(() => new Promise<void>((r) => (finishA = r)).then(() => void order.push('A')));
    const b = policy.execute(async () => void order.push('B'));
    // The moment A settles, a new caller arrives: it must queue behind B, not take A's slot.
    const c = a.then(() => policy.execute(async () => void order.push('C')));
    finishA();
    await Promise.all([a, b, c]);
    expect(order).toEqual(['A', 'B', 'C']);
  });

  it('an aborted queued call leaves at once, freeing its queue place (cockatiel PR #114)', async () => {
    const clock = new VirtualClock();
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 1, clock });
    const running = policy.execute(() => new Promise<void>((r) => clock.setTimeout(() => r(), 1_000)));
    const caller = new AbortController();
    const queued = policy.execute(async () => 'never', caller.signal);
    expect(policy.queued).toBe(1);
    const reason = new Error('client left');
    caller.abort(reason);
    await expect(queued).rejects.toBe(reason);
    expect(policy.queued).toBe(0);
    const next = policy.execute(async () => 'queued after');
    expect(policy.queued).toBe(1);
    await clock.runAll();
    await expect(next).resolves.toBe('queued after');
    await running;
  });

  it('rejects with reason full, and reports rejections', async () => {
    const policy = bulkhead({ maxConcurrent: 1, name: 'db' });
    const seen = vi.fn();
    policy.onRejected(seen);
    const hold = policy.execute(() => new Promise<void>(() => {}));
    await expect(policy.execute(async () => 1)).rejects.toMatchObject({
      code: 'BULWARK_BULKHEAD_FULL',
      reason: 'full',
    });
    expect(seen).toHaveBeenCalledWith({ name: 'db', reason: 'full', active: 1, queued: 0 });
    void hold;
  });

  it('tryAcquire gives a permit only when a slot is free and nobody waits; release is idempotent', () => {
    const policy = bulkhead({ maxConcurrent: 2 });
    const p1 = policy.tryAcquire()!;
    const p2 = policy.tryAcquire()!;
    expect(policy.tryAcquire()).toBeUndefined();
    p1.release();
    p1.release();
    expect(policy.active).toBe(1);
    expect(policy.tryAcquire()).toBeDefined();
    p2.release();
  });

  it('synchronous functions hold and free a slot without a promise of their own', async () => {
    const policy = bulkhead({ maxConcurrent: 1 });
    await expect(policy.execute(() => 42)).resolves.toBe(42);
    await expect(
      policy.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(policy.active).toBe(0);
  });

  it('rejects bad options naming the field', () => {
    expect(() => bulkhead({ maxConcurrent: 0 })).toThrow(expect.objectContaining({ field: 'maxConcurrent' }));
    expect(() => bulkhead({ maxConcurrent: 1, maxQueue: -1 })).toThrow(expect.objectContaining({ field: 'maxQueue' }));
    expect(() => bulkhead({ maxConcurrent: 1, queueTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ field: 'queueTimeoutMs' }),
    );
    expect(() => bulkhead({} as never)).toThrow(expect.objectContaining({ field: 'maxConcurrent' }));
  });
});
