import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timeout } from '@bulwark/core';
import { bulkhead } from '@bulwark/bulkhead';
import { circuitBreaker } from '@bulwark/circuit-breaker';
import { rateLimiter } from '@bulwark/rate-limiter';
import { retry } from '@bulwark/retry';
import {
  bulkheadOptions,
  circuitBreakerOptions,
  healthBehaviours,
  outcomeSchedule,
  rateLimiterOptions,
  requestStream,
  retryOptions,
  timeoutOptions,
  VirtualClock,
} from '../src/index.js';

describe('option arbitraries give options every factory accepts', () => {
  const clock = new VirtualClock();
  it.each([
    [
      'retry',
      () =>
        fc.assert(
          fc.property(retryOptions(), (o) => void retry({ ...o, clock })),
          { numRuns: 200 },
        ),
    ],
    [
      'circuitBreaker',
      () =>
        fc.assert(
          fc.property(circuitBreakerOptions(), (o) => void circuitBreaker({ ...o, clock })),
          { numRuns: 200 },
        ),
    ],
    [
      'bulkhead',
      () =>
        fc.assert(
          fc.property(bulkheadOptions(), (o) => void bulkhead({ ...o, clock })),
          { numRuns: 200 },
        ),
    ],
    [
      'rateLimiter',
      () =>
        fc.assert(
          fc.property(rateLimiterOptions(), (o) => void rateLimiter({ ...o, clock })),
          { numRuns: 200 },
        ),
    ],
    [
      'timeout',
      () =>
        fc.assert(
          fc.property(timeoutOptions(), ({ ms, strategy }) => void timeout(ms, { strategy, clock })),
          { numRuns: 200 },
        ),
    ],
  ])('%s', (_name, check) => {
    expect(check).not.toThrow();
  });

  it('and they vary: every algorithm, window kind and backoff shows up', () => {
    const limits = fc.sample(rateLimiterOptions(), { numRuns: 300, seed: 1 });
    expect(new Set(limits.map((o) => o.algorithm))).toEqual(
      new Set(['gcra', 'token-bucket', 'fixed-window', 'sliding-window']),
    );
    const breakers = fc.sample(circuitBreakerOptions(), { numRuns: 300, seed: 1 });
    expect(new Set(breakers.map((o) => o.window?.kind).filter(Boolean))).toEqual(
      new Set(['consecutive', 'count', 'time']),
    );
  });
});

describe('schedules and streams', () => {
  it('outcome schedules are sorted by arrival and use every outcome kind', () => {
    const schedules = fc.sample(outcomeSchedule(), { numRuns: 200, seed: 2 });
    for (const s of schedules) expect(s.map((c) => c.at)).toEqual([...s.map((c) => c.at)].sort((a, b) => a - b));
    const kinds = new Set(schedules.flatMap((s) => s.flatMap((c) => c.attempts.map((a) => a.kind))));
    expect(kinds).toEqual(new Set(['success', 'failure', 'retry-after', 'hang']));
    const noHang = fc.sample(outcomeSchedule({ hang: false }), { numRuns: 200, seed: 2 });
    expect(noHang.flat().some((c) => c.attempts.some((a) => a.kind === 'hang'))).toBe(false);
  });

  it('request streams are sorted, use the given keys and costs, and include bursts at one instant', () => {
    const streams = fc.sample(requestStream({ keys: ['x', 'y'], maxCost: 3, horizonMs: 1000 }), {
      numRuns: 200,
      seed: 3,
    });
    for (const s of streams) {
      expect(s.map((r) => r.at)).toEqual([...s.map((r) => r.at)].sort((a, b) => a - b));
      for (const r of s) {
        expect(['x', 'y']).toContain(r.key);
        expect(r.cost).toBeGreaterThanOrEqual(1);
        expect(r.cost).toBeLessThanOrEqual(3);
        expect(r.at).toBeLessThan(1000);
      }
    }
    expect(streams.some((s) => s.filter((r) => r.at === 0).length > 1)).toBe(true);
  });

  it('health behaviours cover every result', () => {
    const plans = fc.sample(healthBehaviours(), { numRuns: 100, seed: 4 });
    expect(new Set(plans.flat().map((b) => b.result))).toEqual(new Set(['pass', 'warn', 'fail', 'throw', 'hang']));
  });
});
