import diagnosticsChannel from 'node:diagnostics_channel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBulwarkConfigError } from '@bulwark/core';
import { memoryStore, rateLimiter, rateLimits, type RateLimitDecisionEvent } from '@bulwark/rate-limiter';
import { manualClock } from './manual-clock.js';

describe('rateLimiter', () => {
  it('answers synchronously with the memory store, with every decision field', () => {
    const clock = manualClock();
    const l = rateLimiter({ limit: 2, windowMs: 1_000, clock });
    expect(l.name).toBe('2-in-1s');
    expect(l.consume('k')).toEqual({
      allowed: true,
      limit: 2,
      remaining: 1,
      resetMs: 500,
      retryAfterMs: 0,
      policy: '2-in-1s',
      windowMs: 1_000,
    });
    expect(l.consume('k')).toMatchObject({ allowed: true, remaining: 0, resetMs: 1_000 });
    expect(l.consume('k')).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 500 });
    clock.advance(500);
    expect(l.consume('k')).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('peek decides without counting; refund gives units back; reset forgets the key', () => {
    const l = rateLimiter({ algorithm: 'fixed-window', limit: 3, windowMs: 1_000, clock: manualClock() });
    expect(l.peek('k').remaining).toBe(2);
    expect(l.peek('k').remaining).toBe(2);
    l.consume('k', { cost: 3 });
    expect(l.peek('k').allowed).toBe(false);
    l.refund('k', 2);
    expect(l.peek('k')).toMatchObject({ allowed: true, remaining: 1 });
    l.reset('k');
    expect(l.peek('k').remaining).toBe(2);
  });

  it('a request costing more than the burst is refused with retryAfterMs Infinity, and counts nothing', () => {
    const l = rateLimiter({ limit: 5, windowMs: 1_000, burst: 3, clock: manualClock() });
    expect(l.consume('k', { cost: 4 })).toMatchObject({ allowed: false, retryAfterMs: Infinity, remaining: 3 });
    expect(l.consume('k', { cost: 3 }).allowed).toBe(true);
  });

  it('penalty: a limited key stays refused for blockMs, then its quota decides again', () => {
    const clock = manualClock();
    const l = rateLimiter({ algorithm: 'fixed-window', limit: 1, windowMs: 100, blockMs: 1_000, clock });
    expect(l.consume('k').allowed).toBe(true);
    expect(l.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 1_000 });
    clock.advance(500); // the window has long reset, the penalty has not
    expect(l.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 500, remaining: 0 });
    clock.advance(500);
    expect(l.consume('k').allowed).toBe(true);
    expect(l.consume('other').allowed).toBe(true);
  });

  it('memory stays bounded by maxKeys under a key flood', () => {
    const store = memoryStore({ maxKeys: 1_000 });
    const l = rateLimiter({ limit: 1, windowMs: 60_000, store, name: 'flood' });
    for (let i = 0; i < 20_000; i++) l.consume(`k${i}`);
    expect(store.size('flood')).toBe(1_000);
    // the most recent keys are the ones kept: still limited
    expect(l.consume('k19999').allowed).toBe(false);
  });

  it('when full, evicts a key not seen since the last sweep, not one used since (second chance)', () => {
    const store = memoryStore({ maxKeys: 3 });
    const l = rateLimiter({ limit: 1, windowMs: 60_000, store, name: 'clock', clock: manualClock() });
    const held = (key: string) => !l.peek(key).allowed; // a held key has used its one unit
    for (const k of ['a', 'b', 'c']) expect(l.consume(k).allowed).toBe(true);
    expect(l.consume('d').allowed).toBe(true); // every key gets its second chance; then the oldest, a, goes
    expect(['a', 'b', 'c', 'd'].map(held)).toEqual([false, true, true, true]);
    expect(l.consume('b').allowed).toBe(false); // b is used again...
    expect(l.consume('e').allowed).toBe(true); // ...so c, unseen since the sweep, goes instead
    expect(['b', 'c', 'd', 'e'].map(held)).toEqual([true, false, true, true]);
    expect(store.size('clock')).toBe(3);
  });

  it('property: with no more keys than maxKeys, decisions equal an unbounded store; with more, size stays bounded', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.record({ key: fc.integer({ min: 0, max: 11 }), wait: fc.nat(400), reset: fc.boolean() }), {
          maxLength: 200,
        }),
        (maxKeys, steps) => {
          const clock = manualClock();
          const options = { limit: 3, windowMs: 1_000, clock, blockMs: 700 } as const;
          const bounded = memoryStore({ maxKeys });
          const small = rateLimiter({ ...options, store: bounded, name: 'limit' });
          const big = rateLimiter({ ...options, store: memoryStore({ maxKeys: 1_000 }), name: 'limit' });
          const fits = new Set(steps.map((s) => s.key)).size <= maxKeys;
          for (const step of steps) {
            clock.advance(step.wait);
            const a = small.consume(`k${step.key}`);
            const b = big.consume(`k${step.key}`);
            if (fits) expect(a).toEqual(b);
            expect(bounded.size('limit')).toBeLessThanOrEqual(maxKeys);
            if (step.reset) small.reset(`k${(step.key + 1) % 12}`);
            if (step.reset) big.reset(`k${(step.key + 1) % 12}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('tells listeners and the diagnostics channel about refusals and decisions (never the key on the channel)', () => {
    const l = rateLimiter({ name: 'events', limit: 1, windowMs: 1_000, clock: manualClock() });
    const seen: string[] = [];
    const off = l.onLimited(({ key, decision }) => seen.push(`${key}:${decision.retryAfterMs}`));
    const published: RateLimitDecisionEvent[] = [];
    const limited: unknown[] = [];
    const onDecision = (m: unknown) => published.push(m as RateLimitDecisionEvent);
    const onLimited = (m: unknown) => limited.push(m);
    diagnosticsChannel.subscribe('bulwark:rate-limiter:decision', onDecision);
    diagnosticsChannel.subscribe('bulwark:rate-limiter:limited', onLimited);
    try {
      l.consume('k');
      l.consume('k');
      off();
      l.consume('k');
    } finally {
      diagnosticsChannel.unsubscribe('bulwark:rate-limiter:decision', onDecision);
      diagnosticsChannel.unsubscribe('bulwark:rate-limiter:limited', onLimited);
    }
    expect(seen).toEqual(['k:1000']);
    expect(published).toEqual([
      { name: 'events', allowed: true, storeError: false },
      { name: 'events', allowed: false, storeError: false },
      { name: 'events', allowed: false, storeError: false },
    ]);
    expect(limited).toHaveLength(2);
    expect(limited[0]).not.toHaveProperty('key');
  });

  it('bad input gets a clear error and changes nothing', () => {
    const l = rateLimiter({ limit: 1, windowMs: 1_000, clock: manualClock() });
    expect(() => l.consume(42 as never)).toThrow(TypeError);
    expect(() => l.consume('k', { cost: -1 })).toThrow(/cost must be a finite number/);
    expect(() => l.consume('k', { cost: Number.NaN })).toThrow(RangeError);
    expect(() => l.refund('k', Infinity)).toThrow(RangeError);
    expect(l.consume('k').allowed).toBe(true);
  });

  it.each([
    [{ limit: 0, windowMs: 1_000 }, 'limit'],
    [{ limit: 1.5, windowMs: 1_000 }, 'limit'],
    [{ limit: 10, windowMs: -1 }, 'windowMs'],
    [{ limit: 10 }, 'windowMs'],
    [{ limit: 10, windowMs: 1_000, algorithm: 'leaky' }, 'algorithm'],
    [{ limit: 10, windowMs: 1_000, algorithm: 'fixed-window', burst: 20 }, 'burst'],
    [{ limit: 10, windowMs: 1_000, name: 'has space' }, 'name'],
    [{ limit: 10, windowMs: 1_000, name: 'a{b}' }, 'name'],
    [{ limit: 10, windowMs: 1_000, blockMs: -5 }, 'blockMs'],
    [{ limit: 10, windowMs: 1_000, store: {} }, 'store'],
    [{ limit: 10, windowMs: 1_000, limt: 5 }, 'limt'],
    [{ limit: 1e9, windowMs: 60_000 }, 'limit'], // 60 ns a unit: finer than decisions can count
    [{ limit: 200, windowMs: 1, algorithm: 'token-bucket' }, 'limit'],
  ])('bad config %j names the field %s', (options, field) => {
    let error: unknown;
    try {
      rateLimiter(options as never);
    } catch (e) {
      error = e;
    }
    expect(isBulwarkConfigError(error)).toBe(true);
    expect((error as { issues: { field: string }[] }).issues.map((i) => i.field)).toContain(field);
  });

  it("takes windows and penalties as time strings, as @fastify/rate-limit's timeWindow does", () => {
    const limiter = rateLimiter({ limit: 100, windowMs: '1 minute', blockMs: '15 minutes' });
    expect(limiter.rule).toMatchObject({ windowMs: 60_000, blockMs: 900_000, name: '100-in-60s' });
    expect(rateLimiter({ limit: 1, windowMs: '1.5h' }).rule.windowMs).toBe(5_400_000);
    expect(() => rateLimiter({ limit: 1, windowMs: 'a fortnight' })).toThrow(
      expect.objectContaining({ field: 'windowMs', message: expect.stringContaining('not a time: "a fortnight"') }),
    );
    expect(() => rateLimiter({ limit: 1, windowMs: '-1s' })).toThrow(expect.objectContaining({ field: 'windowMs' }));
  });

  it('gcra and token-bucket accept one unit per 10 µs at most; the window algorithms count any rate', () => {
    const clock = manualClock();
    const fastest = rateLimiter({ limit: 100, windowMs: 1, clock });
    expect(fastest.consume('k', { cost: 100 })).toMatchObject({ allowed: true, remaining: 0 });
    expect(fastest.consume('k').allowed).toBe(false);
    const counted = rateLimiter({ algorithm: 'fixed-window', limit: 1e9, windowMs: 60_000, clock });
    expect(counted.consume('k', { cost: 1e9 }).remaining).toBe(0);
    expect(counted.consume('k').allowed).toBe(false);
  });

  it('two limiters may not share a name in one store (they would count each other): ERR_ERL_STORE_REUSE', () => {
    const store = memoryStore();
    rateLimiter({ name: 'api', limit: 1, windowMs: 1_000, store });
    expect(() => rateLimiter({ name: 'api', limit: 1, windowMs: 1_000, store })).toThrow(/another limiter named "api"/);
    expect(() => memoryStore({ maxKeys: 0 })).toThrow(expect.objectContaining({ code: 'BULWARK_INVALID_CONFIG' }));
  });
});

describe('rateLimits', () => {
  it('never spends one limit when another refuses (rate-limiter-flexible #280: the union spends points)', () => {
    const clock = manualClock();
    const store = memoryStore();
    const minute = rateLimiter({
      name: 'minute',
      algorithm: 'fixed-window',
      limit: 10,
      windowMs: 60_000,
      store,
      clock,
    });
    const burst = rateLimiter({ name: 'burst', algorithm: 'fixed-window', limit: 2, windowMs: 1_000, store, clock });
    const both = rateLimits([minute, burst]);
    expect(both.name).toBe('minute+burst');
    expect(both.consume('u').allowed).toBe(true);
    expect(both.consume('u').allowed).toBe(true);
    const refused = both.consume('u');
    expect(refused).toMatchObject({ allowed: false, policy: 'burst', retryAfterMs: 1_000 });
    expect(refused.decisions!.map((d) => [d.policy, d.allowed, d.remaining])).toEqual([
      ['minute', true, 8],
      ['burst', false, 0],
    ]);
    // the refused request was not counted in the minute limit
    expect(minute.peek('u').remaining).toBe(7);
    clock.advance(1_000);
    expect(both.consume('u')).toMatchObject({ allowed: true, policy: 'burst', remaining: 1 });
  });

  it('refuses limits from different stores, duplicates and empty lists', () => {
    const a = rateLimiter({ name: 'a', limit: 1, windowMs: 1_000 });
    const b = rateLimiter({ name: 'b', limit: 1, windowMs: 1_000 });
    expect(() => rateLimits([a, b])).toThrow(/share one store/);
    expect(() => rateLimits([a, a])).toThrow(/appears twice/);
    expect(() => rateLimits([])).toThrow(expect.objectContaining({ code: 'BULWARK_INVALID_CONFIG' }));
    expect(() => rateLimits([a, {} as never])).toThrow(
      expect.objectContaining({ field: 'limiters.1', message: expect.stringContaining('expected a rateLimiter()') }),
    );
    const store = memoryStore();
    const c = rateLimiter({ name: 'c', limit: 1, windowMs: 1_000, store });
    const d = rateLimiter({ name: 'd', limit: 1, windowMs: 1_000, store, clock: manualClock() });
    expect(() => rateLimits([c, d])).toThrow(expect.objectContaining({ field: 'limiters.1' }));
    expect(() => rateLimits([c], { name: 'bad name' })).toThrow(expect.objectContaining({ field: 'name' }));
    expect(rateLimits([c]).name).toBe('c');
  });
});

describe('regressions from the anchors', () => {
  it('requests at the same instant all count (async-ratelimiter collapses equal timestamps into one entry)', () => {
    for (const algorithm of ['gcra', 'token-bucket', 'fixed-window', 'sliding-window'] as const) {
      const l = rateLimiter({ algorithm, limit: 3, windowMs: 1_000, clock: manualClock(5_000) });
      expect([1, 2, 3, 4].map(() => l.consume('k').allowed)).toEqual([true, true, true, false]);
    }
  });

  it('a refund after the window reset never makes the count negative (express-rate-limit PR #647)', () => {
    const clock = manualClock();
    const l = rateLimiter({ algorithm: 'fixed-window', limit: 2, windowMs: 1_000, clock });
    l.consume('k');
    l.consume('k');
    clock.advance(1_000);
    l.refund('k', 2); // refunds a request of the previous window
    expect([1, 2, 3].map(() => l.consume('k').allowed)).toEqual([true, true, false]);
  });

  it('the time window has sub-second precision (rate-limiter-flexible rounds windows to whole seconds)', () => {
    const clock = manualClock();
    const l = rateLimiter({ algorithm: 'fixed-window', limit: 1, windowMs: 250, clock });
    expect(l.consume('k').allowed).toBe(true);
    expect(l.consume('k').retryAfterMs).toBe(250);
    clock.advance(250);
    expect(l.consume('k').allowed).toBe(true);
  });

  it('three per second admits three at one instant, though 1000/3 ms is not exact in binary', () => {
    const l = rateLimiter({ limit: 3, windowMs: 1_000, clock: manualClock(1_732_000_000_000.123) });
    expect([1, 2, 3, 4].map(() => l.consume('k').allowed)).toEqual([true, true, true, false]);
  });
});
