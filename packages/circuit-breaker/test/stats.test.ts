import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '@bulwark/core/testing';
import { circuitBreaker, consecutive, isBrokenCircuitError } from '@bulwark/circuit-breaker';
import { LatencyHistogram } from '../src/latency-histogram.js';

/** The exact nearest-rank percentile of a sample: the reference the histogram is held to. */
function exactQuantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('LatencyHistogram', () => {
  it('percentiles are within 4.5 % of the exact ones, mean and max exact, in bounded memory (property)', () => {
    const latency = fc.double({ min: 0.001, max: 1e7, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(latency, { minLength: 1, maxLength: 300 }),
        fc.constantFrom(0.5, 0.9, 0.95, 0.99, 0.999, 1),
        (samples, q) => {
          const h = new LatencyHistogram();
          for (const ms of samples) h.record(ms);
          const exact = exactQuantile(samples, q);
          expect(Math.abs(h.quantile(q) - exact) / exact).toBeLessThanOrEqual(0.045);
          expect(h.max).toBe(Math.max(...samples));
          expect(h.count).toBe(samples.length);
          expect(h.mean).toBeCloseTo(samples.reduce((a, b) => a + b, 0) / samples.length, 6);
        },
      ),
    );
  });

  it('reads 0 when empty, and starts afresh after reset', () => {
    const h = new LatencyHistogram();
    expect([h.quantile(0.5), h.mean, h.max, h.count]).toEqual([0, 0, 0, 0]);
    h.record(5);
    h.reset();
    expect([h.quantile(0.99), h.count]).toEqual([0, 0]);
  });
});

describe('breaker stats (opossum-style)', () => {
  it('counts outcomes and refusals, and reads latency percentiles on the breaker clock', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ window: consecutive(3), stats: true, clock });
    const call = (ms: number, fail = false) => {
      const p = breaker.execute(
        () =>
          new Promise((resolve, reject) => clock.setTimeout(() => (fail ? reject(new Error('x')) : resolve(ms)), ms)),
      );
      return p.catch((e: unknown) => e);
    };
    for (const ms of [10, 20, 30, 40]) {
      const p = call(ms);
      await clock.advance(ms);
      await p;
    }
    for (let i = 0; i < 3; i++) {
      const p = call(100, true);
      await clock.advance(100);
      await p;
    }
    expect(breaker.state).toBe('open');
    expect(isBrokenCircuitError(await call(1))).toBe(true);
    expect(breaker.tryAcquire()).toBeUndefined();

    const stats = breaker.stats();
    expect(stats).toMatchObject({ successes: 4, failures: 3, ignored: 0, rejections: 2 });
    expect(stats.latencyMs.count).toBe(7);
    expect(stats.latencyMs.max).toBe(100);
    expect(stats.latencyMs.mean).toBeCloseTo(400 / 7, 6);
    expect(stats.latencyMs.p50 / 40).toBeCloseTo(1, 1);
    expect(Math.abs(stats.latencyMs.p99 - 100)).toBeLessThanOrEqual(4.5);

    breaker.resetStats();
    expect(breaker.stats()).toMatchObject({ successes: 0, failures: 0, rejections: 0, latencyMs: { count: 0 } });
  });

  it('is off by default, and says how to turn it on', () => {
    expect(() => circuitBreaker().stats()).toThrow(/circuitBreaker\({ stats: true }\)/);
  });
});

describe('breaker.fn (opossum-style)', () => {
  it('wraps a function: arguments pass through, calls count, an open circuit refuses them', async () => {
    const breaker = circuitBreaker({ window: consecutive(2), stats: true });
    const divide = breaker.fn(async (a: number, b: number) => {
      if (b === 0) throw new RangeError('division by zero');
      return a / b;
    });
    await expect(divide(6, 3)).resolves.toBe(2);
    await expect(divide(1, 0)).rejects.toThrow(RangeError);
    await expect(divide(1, 0)).rejects.toThrow(RangeError);
    expect(breaker.state).toBe('open');
    await expect(divide(6, 3)).rejects.toMatchObject({ code: 'BULWARK_CIRCUIT_OPEN' });
    expect(breaker.stats()).toMatchObject({ successes: 1, failures: 2, rejections: 1 });
  });
});
