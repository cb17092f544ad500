import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '@bulwark/core/testing';

describe('VirtualClock', () => {
  it('fires timers in due order, ties in the order set, each at its own due time (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 30 }), async (delays) => {
        const clock = new VirtualClock(1000);
        const fired: [number, number][] = [];
        delays.forEach((d, i) => clock.setTimeout(() => fired.push([i, clock.now()]), d));
        await clock.advance(50);
        const expected = delays
          .map((d, i) => [i, 1000 + d] as [number, number])
          .sort((a, b) => a[1] - b[1] || a[0] - b[0]);
        expect(fired).toEqual(expected);
        expect(clock.now()).toBe(1050);
      }),
    );
  });

  it('only fires what falls due, and clearTimeout cancels', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('a'), 10);
    const b = clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('c'), 30);
    clock.clearTimeout(b);
    await clock.advance(25);
    expect(fired).toEqual(['a']);
    expect(clock.pendingTimers).toBe(1);
  });

  it('runs promise continuations between timers, so awaited timers chain within one advance', async () => {
    const clock = new VirtualClock();
    const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
    const steps: number[] = [];
    const job = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(10);
        steps.push(clock.now());
      }
    })();
    await clock.advance(30);
    await job;
    expect(steps).toEqual([10, 20, 30]);
  });

  it('runAll stops a timer that re-arms forever', async () => {
    const clock = new VirtualClock();
    const tick = () => void clock.setTimeout(tick, 1);
    tick();
    await expect(clock.runAll(50)).rejects.toThrow(/still 1 timers after 50/);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });
});
