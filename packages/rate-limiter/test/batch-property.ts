import fc from 'fast-check';
import { expect } from 'vitest';
import { rateLimiter, rateLimits, type Algorithm } from '@bulwark/rate-limiter';
import { redisStore, type RedisClientLike } from '@bulwark/rate-limiter/redis';
import { testPrefix } from '@bulwark/test-servers/redis';
import { manualClock } from './manual-clock.js';

export const algorithms: readonly Algorithm[] = ['gcra', 'token-bucket', 'fixed-window', 'sliding-window'];

/** One limit of any algorithm, with windows and penalties that land on boundaries. */
export const limitArb = fc.record({
  algorithm: fc.constantFrom(...algorithms),
  limit: fc.integer({ min: 1, max: 10 }),
  windowMs: fc.oneof(fc.constantFrom(1, 7, 100, 250, 1_000), fc.integer({ min: 1, max: 3_000 })),
  burst: fc.integer({ min: 1, max: 12 }),
  blockMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2_000 })),
});

export type LimitArb = typeof limitArb extends fc.Arbitrary<infer T> ? T : never;

export const limiterOptions = ({ algorithm, limit, windowMs, burst, blockMs }: LimitArb) =>
  algorithm === 'gcra' || algorithm === 'token-bucket'
    ? { algorithm, limit, windowMs, burst, blockMs }
    : { algorithm, limit, windowMs, blockMs };

/**
 * `client` as it is (a `Cluster` stays one), counting its EVALSHA calls: script runs that reached Redis.
 */
export function countingClient<C extends RedisClientLike>(client: C): C & { runs: number } {
  const counter = { runs: 0 };
  return new Proxy(client, {
    get(target, name) {
      if (name === 'runs') return counter.runs;
      if (name === 'evalsha') {
        return (...args: Parameters<RedisClientLike['evalsha']>) => {
          counter.runs++;
          return target.evalsha(...args);
        };
      }
      const value: unknown = Reflect.get(target, name);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as C & { runs: number };
}

/**
 * Property: the calls of a tick, sent at once through a batching store, take exactly the decisions the same calls
 * take one script run each (any mix of limiters, key counts and operations), in `runsOf(keys)` script runs, where
 * `keys` are the tick's calls' request keys.
 */
export async function batchesDecideAsAlone(
  client: RedisClientLike,
  keys: readonly string[],
  runsOf: (prefix: string, keys: readonly string[]) => number,
  numRuns: number,
): Promise<void> {
  const callArb = fc.record({
    limiter: fc.nat(),
    key: fc.constantFrom(...keys),
    op: fc.constantFrom('consume', 'consume', 'consume', 'peek', 'refund', 'reset'),
    cost: fc.integer({ min: 1, max: 3 }),
  });
  type Call = typeof callArb extends fc.Arbitrary<infer T> ? T : never;
  await fc.assert(
    fc.asyncProperty(
      // each limiter one or two limits (penalties add a key per limit), so a batch's calls use 1–4 keys each
      fc.array(fc.array(limitArb, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1_500 }), fc.array(callArb, { minLength: 1, maxLength: 40 })), {
        minLength: 1,
        maxLength: 4,
      }),
      async (shapes, ticks) => {
        const clock = manualClock(1_000_000);
        const counting = countingClient(client);
        const prefix = testPrefix();
        const build = (batch: boolean) => {
          const store = redisStore({
            client: batch ? counting : client,
            prefix: batch ? prefix : testPrefix(),
            time: 'limiter',
            blockCache: false,
            batch,
          });
          return shapes.map((limits, s) => {
            const ls = limits.map((l, i) => rateLimiter({ ...limiterOptions(l), name: `s${s}l${i}`, store, clock }));
            return ls.length === 1 ? ls[0]! : rateLimits(ls);
          });
        };
        const batched = build(true);
        const alone = build(false);
        const call = (limiters: typeof batched, { limiter, key, op, cost }: Call) => {
          const l = limiters[limiter % limiters.length]!;
          if (op === 'consume') return l.consume(key, { cost });
          if (op === 'peek') return l.peek(key, { cost });
          return op === 'refund' ? l.refund(key, cost) : l.reset(key);
        };
        let runs = 0;
        for (const [wait, calls] of ticks) {
          clock.advance(wait);
          const a = await Promise.all(calls.map((c) => call(batched, c)));
          const b = await Promise.all(calls.map((c) => call(alone, c)));
          expect(a).toEqual(b);
          runs += runsOf(
            prefix,
            calls.map((c) => c.key),
          );
          expect(counting.runs).toBe(runs);
        }
      },
    ),
    { numRuns },
  );
}
