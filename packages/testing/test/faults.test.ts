import { afterEach, describe, expect, it } from 'vitest';
import { compose, isBulwarkConfigError, isTimeoutError, timeout } from '@bulwark/core';
import { retry, constant } from '@bulwark/retry';
import {
  chaos,
  faults,
  hang,
  isInjectedFault,
  latency,
  outcome,
  scripted,
  seededRandom,
  VirtualClock,
  type FaultEvent,
} from '../src/index.js';

afterEach(() => chaos.enable());

const settle = async <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('fault policies', () => {
  it('faults() fails exactly the calls the source picks, without calling them', async () => {
    const policy = faults({ rate: 0.5, random: scripted([true, false, true]) });
    let called = 0;
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await settle(policy.execute(() => ++called)));
    expect(results.map((r) => r.ok)).toEqual([false, true, false, true]);
    expect(isInjectedFault((results[0] as { error: unknown }).error)).toBe(true);
    expect(called).toBe(2);
  });

  it('faults() throws the given error, or the one a function makes', async () => {
    const boom = new Error('boom');
    await expect(faults({ rate: 1, error: boom }).execute(() => 1)).rejects.toBe(boom);
    await expect(faults({ rate: 1, error: () => new TypeError('made') }).execute(() => 1)).rejects.toThrow(TypeError);
  });

  it('a seeded source replays the same faults; the rate holds over many calls', async () => {
    const run = async (seed: number) => {
      const policy = faults({ rate: 0.3, random: seededRandom(seed) });
      const out: boolean[] = [];
      for (let i = 0; i < 2000; i++) out.push((await settle(policy.execute(() => 1))).ok);
      return out;
    };
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    const failed = a.filter((ok) => !ok).length / a.length;
    expect(failed).toBeGreaterThan(0.25);
    expect(failed).toBeLessThan(0.35);
  });

  it('latency() delays on the clock, then calls; an abort during the delay rejects and never calls', async () => {
    const clock = new VirtualClock();
    const policy = latency({ rate: 1, ms: 500, clock });
    let calledAt: number | undefined;
    const p = settle(policy.execute(() => (calledAt = clock.now())));
    await clock.advance(499);
    expect(calledAt).toBeUndefined();
    await clock.advance(1);
    expect(await p).toEqual({ ok: true, value: 500 });

    const caller = new AbortController();
    let called = false;
    const q = settle(policy.execute(() => (called = true), caller.signal));
    await clock.advance(100);
    caller.abort(new Error('gave up'));
    expect(await q).toMatchObject({ ok: false, error: new Error('gave up') });
    await clock.runAll();
    expect(called).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('outcome() answers with the value without calling', async () => {
    const policy = outcome({ rate: 1, value: () => ({ cached: true }) });
    let called = false;
    expect(await policy.execute(() => ((called = true), { cached: false }))).toEqual({ cached: true });
    expect(called).toBe(false);
  });

  it('hang() never settles until aborted: a timeout outside it ends the call', async () => {
    const clock = new VirtualClock();
    const policy = compose(timeout(1000, { clock }), hang({ rate: 1 }));
    const p = settle(policy.execute(() => 'never'));
    await clock.advance(1000);
    const r = await p;
    expect(r.ok).toBe(false);
    expect(isTimeoutError((r as { error: unknown }).error)).toBe(true);
  });

  it('retry around injected faults recovers, as it would from real ones', async () => {
    const clock = new VirtualClock();
    const policy = compose(
      retry({ maxAttempts: 3, backoff: constant(10), clock }),
      faults({ rate: 1, random: scripted([true, true]) }),
    );
    const p = policy.execute(({ attempt }) => `attempt ${attempt}`);
    await clock.runAll();
    expect(await p).toBe('attempt 3');
  });

  it('the global switch and the policy switch turn injection off; events say what was injected', async () => {
    let flag = true;
    const policy = faults({ rate: 1, enabled: () => flag, name: 'db-chaos' });
    const seen: FaultEvent[] = [];
    policy.onInjected((e) => seen.push(e));
    expect((await settle(policy.execute(() => 1))).ok).toBe(false);
    chaos.disable();
    expect(await policy.execute(() => 1)).toBe(1);
    chaos.enable();
    flag = false;
    expect(await policy.execute(() => 1)).toBe(1);
    expect(seen).toEqual([{ kind: 'fault', name: 'db-chaos' }]);
  });

  it('rejects bad options with a config error naming the field', () => {
    for (const [make, field] of [
      [() => faults({ rate: 2 }), 'rate'],
      [() => latency({ rate: 1, ms: -1 }), 'ms'],
      [() => hang({ rate: 0.1, random: 3 } as never), 'random'],
      [() => outcome({ rate: 1, value: 1, extra: true } as never), 'extra'],
    ] as const) {
      let error: unknown;
      try {
        make();
      } catch (e) {
        error = e;
      }
      expect(isBulwarkConfigError(error)).toBe(true);
      expect((error as { field: string }).field).toBe(field);
    }
  });
});
