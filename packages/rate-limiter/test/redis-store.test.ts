import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isBulwarkConfigError } from '@bulwark/core';
import { memoryStore, rateLimiter, rateLimits, type Decision } from '@bulwark/rate-limiter';
import { RATE_LIMIT_SCRIPT_SHA, redisStore } from '@bulwark/rate-limiter/redis';
import { manualClock } from './manual-clock.js';
import { algorithms, batchesDecideAsAlone, countingClient, limitArb, limiterOptions } from './batch-property.js';
import { sharedRedis, testPrefix } from '@bulwark/test-servers/redis';

const redis = await sharedRedis();
afterAll(() => redis?.disconnect());

const opArb = fc.record({
  // round waits too, so requests land exactly on window and interval boundaries
  wait: fc.oneof(fc.constantFrom(0, 1, 7, 100, 250, 500, 1_000), fc.integer({ min: 0, max: 1_500 })),
  key: fc.constantFrom('a', 'b'),
  op: fc.constantFrom('consume', 'consume', 'consume', 'peek', 'refund'),
  cost: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3 })),
});

describe.skipIf(redis === undefined)('redisStore against the real Redis', () => {
  it('takes the same decisions as the memory store on any sequence (differential)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(limitArb, { minLength: 1, maxLength: 3 }),
        fc.array(opArb, { minLength: 1, maxLength: 25 }),
        async (limits, ops) => {
          const clock = manualClock(1_000_000);
          const mem = memoryStore();
          const red = redisStore({ client: redis!, prefix: testPrefix(), time: 'limiter', blockCache: false });
          const build = (store: typeof mem | typeof red) => {
            const ls = limits.map((l, i) => rateLimiter({ ...limiterOptions(l), name: `l${i}`, store, clock }));
            return ls.length === 1 ? ls[0]! : rateLimits(ls);
          };
          const m = build(mem);
          const r = build(red);
          for (const { wait, key, op, cost } of ops) {
            clock.advance(wait);
            if (op === 'refund') {
              void m.refund(key, cost);
              await r.refund(key, cost);
              continue;
            }
            const dm = (op === 'peek' ? m.peek(key, { cost }) : m.consume(key, { cost })) as Decision;
            const dr = await (op === 'peek' ? r.peek(key, { cost }) : r.consume(key, { cost }));
            expect(dr).toEqual(dm);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);

  it.each(algorithms)('%s: 200 parallel clients never get more than the limit admitted', async (algorithm) => {
    const store = redisStore({ client: redis!, prefix: testPrefix() });
    const l = rateLimiter({ algorithm, limit: 50, windowMs: 60_000, store });
    const decisions = await Promise.all(Array.from({ length: 200 }, () => l.consume('shared')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
  });

  it('keys carry a hash tag and a millisecond TTL set in the same step; a refund keeps the TTL (rate-limit-redis decrement bug)', async () => {
    const prefix = testPrefix();
    const l = rateLimiter({
      name: 'api',
      algorithm: 'fixed-window',
      limit: 5,
      windowMs: 1_500,
      store: redisStore({ client: redis!, prefix }),
    });
    await l.consume('user-1', { cost: 3 });
    const key = `${prefix}{user-1}:api`;
    const ttl = await redis!.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    // the window's end rounded up to a whole second (see the next test)
    expect(ttl).toBeLessThanOrEqual(1_500 + 1_000);
    await l.refund('user-1', 2);
    expect(await redis!.pttl(key)).toBeGreaterThan(0);
    expect((await l.peek('user-1')).remaining).toBe(3);
  });

  it('with Redis time, a key expires at the whole second after its state runs out, and keeps its TTL while no later one is needed', async () => {
    const redisMs = async () => {
      const [s, us] = await redis!.time();
      return Number(s) * 1000 + Number(us) / 1000;
    };
    for (const algorithm of algorithms) {
      const prefix = testPrefix();
      const l = rateLimiter({
        name: 'api',
        algorithm,
        limit: 10,
        windowMs: 10_000,
        store: redisStore({ client: redis!, prefix }),
      });
      const key = `${prefix}{k}:api`;
      for (let i = 0; i < 14; i++) {
        const before = await redisMs();
        const d = await l.consume('k', { cost: 1 + (i % 3) });
        const after = await redisMs();
        const expiresAt = Number(await redis!.call('PEXPIRETIME', key));
        // the state needs the key until now + resetMs (resetMs is its TTL, rounded up to whole ms)
        expect(expiresAt % 1_000, algorithm).toBe(0);
        expect(expiresAt, algorithm).toBeGreaterThanOrEqual(Math.floor(before) + d.resetMs - 1);
        expect(expiresAt, algorithm).toBeLessThanOrEqual(Math.ceil(after) + d.resetMs + 1_000);
      }
    }
    // A refund needs an earlier expiry, never a later one: the key keeps its TTL (SET … KEEPTTL), where setting it
    // afresh would move it 4 s earlier.
    const prefix = testPrefix();
    const l = rateLimiter({ name: 'api', limit: 10, windowMs: 10_000, store: redisStore({ client: redis!, prefix }) });
    const key = `${prefix}{k}:api`;
    await l.consume('k', { cost: 5 });
    const expiresAt = Number(await redis!.call('PEXPIRETIME', key));
    await l.refund('k', 4);
    expect(Number(await redis!.call('PEXPIRETIME', key))).toBe(expiresAt);
    await l.consume('k', { cost: 6 }); // now needs ~2 s more than the kept TTL gives: set afresh
    expect(Number(await redis!.call('PEXPIRETIME', key))).toBeGreaterThan(expiresAt);
  });

  it('falls back to EVAL when the script cache was flushed (NOSCRIPT after a restart or failover)', async () => {
    const l = rateLimiter({ limit: 3, windowMs: 1_000, store: redisStore({ client: redis!, prefix: testPrefix() }) });
    await redis!.script('FLUSH');
    expect((await l.consume('k')).allowed).toBe(true);
    expect(await redis!.script('EXISTS', RATE_LIMIT_SCRIPT_SHA)).toEqual([1]);
  });

  it('app hosts with skewed clocks share one limit exactly: time comes from Redis (spring-cloud-gateway #1117)', async () => {
    const prefix = testPrefix();
    const host = (skewMs: number) =>
      rateLimiter({
        name: 'api',
        limit: 4,
        windowMs: 60_000,
        clock: manualClock(skewMs),
        store: redisStore({ client: redis!, prefix }),
      });
    const a = host(0);
    const b = host(3_600_000);
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await a.consume('k')).allowed, (await b.consume('k')).allowed);
    expect(results.filter(Boolean)).toHaveLength(4);
  });

  it('answers repeat offenders from the local block cache until their retry time, without a round trip', async () => {
    const counting = countingClient(redis!);
    const clock = manualClock();
    const l = rateLimiter({
      limit: 1,
      windowMs: 60_000,
      clock,
      store: redisStore({ client: counting, prefix: testPrefix() }),
    });
    expect((await l.consume('k')).allowed).toBe(true);
    const first = await l.consume('k');
    expect(first.allowed).toBe(false);
    const before = counting.runs;
    clock.advance(999.5);
    const cached = await l.consume('k');
    expect(counting.runs).toBe(before);
    // the waits shrink with the time since Redis refused, still in whole ms rounded up
    expect(cached).toMatchObject({ allowed: false, remaining: first.remaining });
    expect(cached.retryAfterMs).toBe(first.retryAfterMs - 999);
    expect(cached.resetMs).toBe(first.resetMs - 999);
    await l.reset('k');
    expect((await l.consume('k')).allowed).toBe(true);

    // several limits: each limit's decision ages too
    const store = redisStore({ client: counting, prefix: testPrefix() });
    const both = rateLimits([
      rateLimiter({ name: 'm', limit: 1, windowMs: 60_000, clock, store }),
      rateLimiter({ name: 'h', limit: 100, windowMs: 3_600_000, clock, store }),
    ]);
    await both.consume('k');
    const refused = await both.consume('k');
    clock.advance(2_000.25);
    const again = await both.consume('k');
    expect(again.decisions!.map((d) => [d.allowed, d.resetMs, d.retryAfterMs])).toEqual(
      refused.decisions!.map((d) => [d.allowed, d.resetMs - 2_000, d.allowed ? 0 : d.retryAfterMs - 2_000]),
    );
    // past its retry time the cache lets the request through to Redis again (whose clock has not moved here)
    const runs = counting.runs;
    clock.advance(refused.retryAfterMs);
    await both.consume('k');
    expect(counting.runs).toBe(runs + 1);
  });

  it('batches the calls of one tick: one script run per 16 calls, each decided as if alone', async () => {
    const counting = countingClient(redis!);
    const l = rateLimiter({
      limit: 10,
      windowMs: 60_000,
      store: redisStore({ client: counting, prefix: testPrefix() }),
    });
    const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => l.consume(`k${i % 4}`)));
    expect(counting.runs).toBe(3); // 16 + 16 + 8
    for (let k = 0; k < 4; k++) {
      const mine = decisions.filter((_, i) => i % 4 === k);
      expect(mine.map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    }
    const unbatched = rateLimiter({
      limit: 10,
      windowMs: 60_000,
      store: redisStore({ client: counting, prefix: testPrefix(), batch: false }),
    });
    await Promise.all(Array.from({ length: 10 }, () => unbatched.consume('k')));
    expect(counting.runs).toBe(13);
  });

  it('decides a batch mixing limiters, key counts and operations exactly as the same calls one script each', async () => {
    // All calls of a tick at once: the batching store sends them as ceil(n / 16) script runs.
    await batchesDecideAsAlone(redis!, ['a', 'b'], (_, keys) => Math.ceil(keys.length / 16), 40);
  }, 60_000);

  it('bad config is named', () => {
    const fields = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(isBulwarkConfigError(e)).toBe(true);
        return (e as { issues: { field: string }[] }).issues.map((i) => i.field);
      }
      return [];
    };
    expect(fields(() => redisStore({ client: {} as never }))).toContain('client');
    expect(fields(() => redisStore({ client: redis!, prefix: 'a{b}' }))).toContain('prefix');
    expect(fields(() => redisStore({ client: redis!, onError: 'maybe' as never }))).toContain('onError');
    expect(fields(() => redisStore({ client: redis!, timeoutMs: 0 }))).toContain('timeoutMs');
  });
});
