import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryStore, rateLimiter, rateLimits, type Algorithm, type Decision } from '@bulwark/rate-limiter';
import {
  manualClock,
  rateLimiterOptionsFor as options,
  rateLimitModel as reference,
  type RateLimitModelDecision as RefDecision,
  type RateLimitModelParams as Params,
} from '../src/index.js';

// @bulwark/rate-limiter's model tests, against the public reference models.

const algorithms: readonly Algorithm[] = ['gcra', 'token-bucket', 'fixed-window', 'sliding-window'];

/** Limits whose emission interval `windowMs / limit` is a whole number of ms, so every time is exact. */
const exactParams = (algorithm: Algorithm): fc.Arbitrary<Params> =>
  fc
    .record({
      limit: fc.integer({ min: 1, max: 12 }),
      step: fc.integer({ min: 1, max: 250 }),
      burst: fc.integer({ min: 1, max: 15 }),
    })
    .map(({ limit, step, burst }) => ({
      algorithm,
      limit,
      windowMs: limit * step,
      burst: algorithm === 'gcra' || algorithm === 'token-bucket' ? burst : limit,
    }));

/** Any limit: intervals such as 1000/3 ms are not exact in binary. */
const anyParams = (algorithm: Algorithm): fc.Arbitrary<Params> =>
  fc
    .record({
      limit: fc.integer({ min: 1, max: 50 }),
      windowMs: fc.integer({ min: 1, max: 5_000 }),
      burst: fc.integer({ min: 1, max: 60 }),
    })
    .map((p) => ({ algorithm, ...p, burst: algorithm === 'gcra' || algorithm === 'token-bucket' ? p.burst : p.limit }));

/** A step: wait, then a request from one of three keys costing 1–4 units (mostly 1). */
const steps = (maxWait: number) =>
  fc.array(
    fc.record({
      wait: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: maxWait })),
      key: fc.constantFrom('a', 'b', 'c'),
      cost: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 4 })),
    }),
    { minLength: 1, maxLength: 60 },
  );

/** The first whole ms after `now` at which the reference admits the request (sliding window), by search. */
function firstAdmitted(
  ref: ReturnType<typeof reference>,
  key: string,
  cost: number,
  now: number,
  windowMs: number,
): number {
  for (let d = 1; d <= 2 * windowMs + 1; d++) if (ref.decide(key, cost, now + d).allowed) return d;
  return Infinity;
}

function checkStep(p: Params, d: Decision, r: RefDecision, exact: boolean): void {
  expect(d.allowed).toBe(r.allowed);
  expect(d.remaining).toBe(r.remaining);
  expect(d.limit).toBe(p.limit);
  if (r.allowed) expect(d.retryAfterMs).toBe(0);
  else if (Number.isFinite(r.retryAfterMs)) {
    if (exact) expect(d.retryAfterMs).toBe(Math.ceil(r.retryAfterMs));
    else expect(Math.abs(d.retryAfterMs - Math.ceil(r.retryAfterMs))).toBeLessThanOrEqual(1);
  } else if (!Number.isNaN(r.retryAfterMs)) expect(d.retryAfterMs).toBe(Infinity);
}

describe.each(algorithms)('%s against its reference model', (algorithm) => {
  it('takes the reference decision at every step (exact intervals: remaining and retry time too)', () => {
    fc.assert(
      fc.property(exactParams(algorithm), steps(600), (p, seq) => {
        const { clock, advance } = manualClock();
        let now = 0;
        const limiter = rateLimiter({ ...options(p), clock, name: 'm' });
        const ref = reference(p);
        for (const { wait, key, cost } of seq) {
          now += wait;
          advance(wait);
          const r = ref.decide(key, cost, now);
          if (algorithm === 'sliding-window' && !r.allowed && cost <= p.limit) {
            r.retryAfterMs = firstAdmitted(ref, key, cost, now, p.windowMs);
          }
          const peeked = limiter.peek(key, { cost });
          const d = limiter.consume(key, { cost });
          expect(peeked).toEqual(d);
          checkStep(p, d, r, true);
          if (r.allowed) ref.commit(key, cost, now);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('admits exactly the reference set with any window and limit', () => {
    fc.assert(
      fc.property(anyParams(algorithm), steps(3_000), (p, seq) => {
        const { clock, advance } = manualClock();
        let now = 0;
        const limiter = rateLimiter({ ...options(p), clock });
        const ref = reference(p);
        for (const { wait, key, cost } of seq) {
          now += wait;
          advance(wait);
          const r = ref.decide(key, cost, now);
          const d = limiter.consume(key, { cost });
          checkStep(p, d, { ...r, retryAfterMs: algorithm === 'sliding-window' ? NaN : r.retryAfterMs }, false);
          if (r.allowed) ref.commit(key, cost, now);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe.each(['gcra', 'token-bucket'] as const)('%s never admits more than burst + rate × elapsed', (algorithm) => {
  it('over every interval between two admitted requests of a key', () => {
    fc.assert(
      fc.property(anyParams(algorithm), steps(400), (p, seq) => {
        const { clock, advance } = manualClock();
        let now = 0;
        const limiter = rateLimiter({ ...options(p), clock });
        const admitted: { at: number; cost: number }[] = [];
        for (const { wait, cost } of seq) {
          now += wait;
          advance(wait);
          if (limiter.consume('k', { cost }).allowed) admitted.push({ at: now, cost });
        }
        const rate = p.limit / p.windowMs;
        for (let i = 0; i < admitted.length; i++) {
          let total = 0;
          for (let j = i; j < admitted.length; j++) {
            total += admitted[j]!.cost;
            // 1 µs of tolerance per request: the documented precision of the decisions
            expect(total).toBeLessThanOrEqual(
              p.burst + rate * (admitted[j]!.at - admitted[i]!.at + 1e-3 * (j - i + 1)),
            );
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('rateLimits: several limits decided as one', () => {
  it('counts a request in every limit or in none (the reference commits only jointly admitted requests)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...algorithms).chain(exactParams),
        fc.constantFrom(...algorithms).chain(exactParams),
        steps(400),
        (p1, p2, seq) => {
          const { clock, advance } = manualClock();
          let now = 0;
          const store = memoryStore();
          const a = rateLimiter({ ...options(p1), name: 'a', clock, store });
          const b = rateLimiter({ ...options(p2), name: 'b', clock, store });
          const both = rateLimits([a, b]);
          const refs = [reference(p1), reference(p2)];
          for (const { wait, key, cost } of seq) {
            now += wait;
            advance(wait);
            const r = refs.map((ref) => ref.decide(key, cost, now));
            const allowed = r.every((x) => x.allowed);
            const d = both.consume(key, { cost });
            expect(d.allowed).toBe(allowed);
            expect(d.decisions!.map((x) => x.allowed)).toEqual(r.map((x) => x.allowed));
            // a limit that would admit a refused request reports its quota without it
            expect(d.decisions!.map((x) => x.remaining)).toEqual(
              r.map((x) => (x.allowed && !allowed ? x.remaining + cost : x.remaining)),
            );
            if (allowed) refs.forEach((ref) => ref.commit(key, cost, now));
          }
          // direct use of one limit sees the same state
          expect(a.peek('a').remaining).toBe(refs[0]!.decide('a', 1, now).remaining);
        },
      ),
      { numRuns: 150 },
    );
  });
});
