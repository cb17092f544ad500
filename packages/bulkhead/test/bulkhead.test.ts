import { describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '@bulwark/core/testing';
import { bulkhead } from '@bulwark/bulkhead';

describe('bulkhead', () => {
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
