import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryStore, rateLimiter, type Decision, type LimitBinding } from '@bulwark/rate-limiter';
import { redisStore } from '@bulwark/rate-limiter/redis';
import { sharedRedis, testPrefix } from '@bulwark/test-servers/redis';
import type { LimitRule } from '../src/algorithms.js';
import { LeaseBinding } from '../src/lease-binding.js';

/** One limit's rule, and a binding to it in one shared memory store standing in for Redis (answers as promises). */
function sharedRemote(options: { limit: number; windowMs: number; burst?: number }) {
  const shared = memoryStore();
  let rule!: LimitRule;
  let binding!: LimitBinding<'sync'>;
  const capture = {
    mode: 'sync' as const,
    bind(rules: readonly LimitRule[]) {
      rule = rules[0]!;
      binding = shared.bind(rules);
      return binding;
    },
  };
  rateLimiter({ ...options, store: capture });
  let calls = 0;
  const remote: LimitBinding<'async'> = {
    consume: (key, cost, now) => (calls++, Promise.resolve(binding.consume(key, cost, now))),
    peek: (key, cost, now) => Promise.resolve(binding.peek(key, cost, now)),
    refund: (key, cost, now) => (calls++, Promise.resolve(binding.refund(key, cost, now))),
    reset: (key) => Promise.resolve(binding.reset(key)),
  };
  return { rule, remote, calls: () => calls };
}

describe('lease mode (a simulated fleet on virtual time)', () => {
  it('property: over any window, a fleet admits at most limit x ms / windowMs more than GCRA allows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          processes: fc.integer({ min: 1, max: 4 }),
          units: fc.integer({ min: 2, max: 20 }),
          limit: fc.integer({ min: 5, max: 50 }),
          msShare: fc.constantFrom(0.01, 0.05, 0.2),
        }),
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 40 }), p: fc.nat(), cost: fc.constantFrom(1, 1, 1, 2) }), {
          minLength: 1,
          maxLength: 300,
        }),
        async ({ processes, units, limit, msShare }, requests) => {
          const windowMs = 1_000;
          const ms = windowMs * msShare;
          const { rule, remote } = sharedRemote({ limit, windowMs });
          const fleet = Array.from({ length: processes }, () => new LeaseBinding(remote, rule, { units, ms }));
          const admitted: { at: number; cost: number }[] = [];
          let now = 0;
          for (const r of requests) {
            now += r.dt;
            const d: Decision = await fleet[r.p % processes]!.consume('hot', r.cost, now);
            if (d.allowed) admitted.push({ at: now, cost: r.cost });
          }
          // GCRA admits at most burst + limit x D / windowMs units in any span D; leased units are spent up to ms
          // after Redis counted them, so a span D sees at most those granted over D + ms.
          for (const start of admitted.map((a) => a.at)) {
            const used = admitted
              .filter((a) => a.at >= start && a.at < start + windowMs)
              .reduce((n, a) => n + a.cost, 0);
            expect(used).toBeLessThanOrEqual(limit + Math.floor((limit * (windowMs + ms)) / windowMs) + 2);
            expect(used).toBeLessThanOrEqual(Math.ceil(limit * (2 + msShare)) + 2);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('one remote call serves a lease; concurrent calls wait for it; near the limit it decides exactly', async () => {
    const { rule, remote, calls } = sharedRemote({ limit: 10, windowMs: 1_000, burst: 10 });
    const lease = new LeaseBinding(remote, rule, { units: 4 });
    const first = await Promise.all([1, 2, 3, 4].map(() => lease.consume('k', 1, 0)));
    expect(first.every((d) => d.allowed)).toBe(true);
    expect(calls()).toBe(1); // four decisions, one lease
    for (let i = 0; i < 6; i++) expect((await lease.consume('k', 1, 0)).allowed).toBe(true);
    expect((await lease.consume('k', 1, 0)).allowed).toBe(false); // exactly the limit, then refused
  });

  it('gives back what it did not spend when the lease runs out of time', async () => {
    const { rule, remote } = sharedRemote({ limit: 10, windowMs: 1_000, burst: 10 });
    const a = new LeaseBinding(remote, rule, { units: 8, ms: 10 });
    expect((await a.consume('k', 1, 0)).allowed).toBe(true); // leases 8, spends 1
    expect((await remote.peek('k', 3, 0)).allowed).toBe(false); // 8 of 10 are out: 3 more do not fit
    await a.consume('k', 1, 20); // past ms: the 7 left go back, and a new lease of 8 is taken (1 spent)
    await new Promise((r) => setImmediate(r));
    // In the shared store: 1 + 8 units out, so one more fits and two do not.
    expect((await remote.peek('k', 1, 20)).allowed).toBe(true);
    expect((await remote.peek('k', 2, 20)).allowed).toBe(false);
  });
});

const redis = await sharedRedis();
afterAll(() => redis?.disconnect());

describe.skipIf(!redis)('lease mode on real Redis', () => {
  it('takes one round trip per lease instead of one per decision, and never exceeds the limit in one window', async () => {
    let scriptCalls = 0;
    const counted = {
      evalsha: (...args: unknown[]) => (
        scriptCalls++,
        (redis!.evalsha as (...a: unknown[]) => Promise<unknown>)(...args)
      ),
      eval: (...args: unknown[]) => (scriptCalls++, (redis!.eval as (...a: unknown[]) => Promise<unknown>)(...args)),
    };
    const prefix = testPrefix();
    const make = () =>
      rateLimiter({
        name: 'hot',
        limit: 200,
        windowMs: 60_000,
        algorithm: 'fixed-window',
        store: redisStore({ client: counted, prefix, lease: { units: 20, ms: 60_000 }, batch: false }),
      });
    const fleet = [make(), make()];
    let allowed = 0;
    for (let i = 0; i < 300; i++) if ((await fleet[i % 2]!.consume('key')).allowed) allowed++;
    expect(allowed).toBe(200); // a fixed window's leases are whole units of it: exactly the limit
    expect(scriptCalls).toBeLessThan(40);
  });
});
