import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { TimeoutError } from '@bulwark/core';
import { VirtualClock } from '@bulwark/core/testing';
import { adaptiveLimit, aimdLimit, gradientLimit } from '@bulwark/bulkhead';

const sample = fc.record({
  rtt: fc.double({ min: 0, max: 10_000, noNaN: true }),
  inflight: fc.integer({ min: 0, max: 2_000 }),
  dropped: fc.boolean(),
});

describe('adaptive limits', () => {
  it('stay within [minLimit, maxLimit] for any sequence of samples, both algorithms (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('aimd', 'gradient'),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 200 }),
        fc.array(sample, { maxLength: 300 }),
        (algorithm, minLimit, span, samples) => {
          const maxLimit = minLimit + span;
          const initialLimit = minLimit + Math.floor(span / 2);
          const limit =
            algorithm === 'aimd'
              ? aimdLimit({ minLimit, maxLimit, initialLimit })
              : gradientLimit({ minLimit, maxLimit, initialLimit });
          for (const s of samples) {
            limit.sample(s.rtt, s.inflight, s.dropped);
            expect(limit.current).toBeGreaterThanOrEqual(minLimit);
            expect(limit.current).toBeLessThanOrEqual(maxLimit);
            expect(Number.isInteger(limit.current)).toBe(true);
          }
        },
      ),
    );
  });

  it('AIMD grows by one while busy and healthy, and backs off on a drop or a slow call', () => {
    const limit = aimdLimit({ initialLimit: 10, minLimit: 1, maxLimit: 100, timeoutMs: 500 });
    limit.sample(10, 10, false);
    expect(limit.current).toBe(11);
    limit.sample(10, 2, false); // app-limited: no growth
    expect(limit.current).toBe(11);
    limit.sample(10, 11, true);
    expect(limit.current).toBe(9);
    limit.sample(600, 9, false);
    expect(limit.current).toBe(8);
  });

  it('gradient grows while latency is steady and shrinks when it rises', () => {
    const limit = gradientLimit({ initialLimit: 20, minLimit: 5, maxLimit: 200 });
    for (let i = 0; i < 50; i++) limit.sample(10, limit.current, false);
    const grown = limit.current;
    expect(grown).toBeGreaterThan(20);
    for (let i = 0; i < 30; i++) limit.sample(80, limit.current, false);
    expect(limit.current).toBeLessThan(grown);
  });

  it('as a policy: timeouts shrink the limit, and changes are reported', async () => {
    const clock = new VirtualClock();
    const policy = adaptiveLimit({ algorithm: 'aimd', initialLimit: 4, minLimit: 1, maxLimit: 8, clock, name: 'api' });
    const changes = vi.fn();
    policy.onLimitChange(changes);
    await Promise.allSettled(
      Array.from({ length: 4 }, () => policy.execute(() => Promise.reject(new TimeoutError(100)))),
    );
    expect(policy.limit).toBe(1);
    expect(changes).toHaveBeenCalledWith({ name: 'api', from: 4, to: 3 });
  });

  it('rejects bad options naming the field', () => {
    expect(() => adaptiveLimit({ minLimit: 10, maxLimit: 5 })).toThrow(
      expect.objectContaining({ field: 'initialLimit' }),
    );
    expect(() => adaptiveLimit({ algorithm: 'aimd', backoffRatio: 1 })).toThrow(
      expect.objectContaining({ field: 'backoffRatio' }),
    );
    expect(() => adaptiveLimit({ algorithm: 'vegas' as never })).toThrow(
      expect.objectContaining({ field: 'algorithm' }),
    );
  });
});
