import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '@bulwark/core';
import { circuitBreaker, consecutive, countWindow, type CircuitPermit } from '@bulwark/circuit-breaker';

/** A clock moved by hand, synchronously (the breaker reads time; it sets no timers). */
function manualClock() {
  let t = 0;
  const clock: Clock = { now: () => t, setTimeout: () => 0, clearTimeout: () => {} };
  return { clock, advance: (ms: number) => (t += ms) };
}

interface Config {
  window: { kind: 'consecutive'; n: number } | { kind: 'count'; size: number; minimumCalls: number };
  failureRate: number;
  slowMs: number | undefined;
  slowRate: number;
  openMs: number;
  permitted: number;
  successThreshold: number;
  maxHalfOpenMs: number;
}

type Cls = 'success' | 'failure' | 'ignore';

/** The reference: the documented state machine, written plainly (arrays, rescans, no cleverness). */
class Model {
  state: 'closed' | 'open' | 'half-open' = 'closed';
  gen = 0;
  opens = 0;
  openUntil = 0;
  halfSince = 0;
  trials = 0;
  ok = 0;
  bad = 0;
  window: { failed: boolean; slow: boolean }[] = [];
  constructor(readonly c: Config) {}
  tick(now: number) {
    if (this.state === 'open' && now >= this.openUntil) this.half(now);
    else if (this.state === 'half-open' && now - this.halfSince >= this.c.maxHalfOpenMs) {
      this.open(now);
      if (now >= this.openUntil) this.half(now);
    }
  }
  open(now: number) {
    this.opens++;
    this.openUntil = now + this.c.openMs;
    this.state = 'open';
    this.gen++;
  }
  half(now: number) {
    this.state = 'half-open';
    this.halfSince = now;
    this.trials = this.ok = this.bad = 0;
    this.gen++;
  }
  close() {
    this.state = 'closed';
    this.opens = 0;
    this.window = [];
    this.gen++;
  }
  admit(now: number): number | undefined {
    this.tick(now);
    if (this.state === 'closed') return this.gen;
    if (this.state === 'half-open' && this.trials < this.c.permitted) {
      this.trials++;
      return this.gen;
    }
    return undefined;
  }
  trips(): boolean {
    const w = this.c.window;
    if (w.kind === 'consecutive') {
      let run = 0;
      for (let i = this.window.length - 1; i >= 0 && this.window[i]!.failed; i--) run++;
      return run >= w.n;
    }
    const last = this.window.slice(-w.size);
    if (last.length < w.minimumCalls) return false;
    const failures = last.filter((x) => x.failed).length;
    const slow = last.filter((x) => x.slow).length;
    return failures * 100 >= this.c.failureRate * last.length || slow * 100 >= this.c.slowRate * last.length;
  }
  counts() {
    const w = this.c.window;
    if (w.kind === 'consecutive') {
      let run = 0;
      for (let i = this.window.length - 1; i >= 0 && this.window[i]!.failed; i--) run++;
      return { calls: this.window.length, failures: run, slow: 0 };
    }
    const last = this.window.slice(-w.size);
    return {
      calls: last.length,
      failures: last.filter((x) => x.failed).length,
      slow: last.filter((x) => x.slow).length,
    };
  }
  retryAfter(now: number) {
    if (this.state === 'open') return this.openUntil - now;
    if (this.state === 'half-open' && this.trials >= this.c.permitted)
      return Math.max(0, this.halfSince + this.c.maxHalfOpenMs - now);
    return 0;
  }
  finish(gen: number, cls: Cls, started: number, now: number) {
    if (gen !== this.gen || this.state === 'open') return;
    if (this.state === 'half-open') {
      if (cls === 'ignore') this.trials--;
      else if (cls === 'success') {
        if (++this.ok >= this.c.successThreshold) this.close();
      } else if (this.c.permitted - ++this.bad < this.c.successThreshold) this.open(now);
      return;
    }
    if (cls === 'ignore') return;
    const slow = this.c.window.kind !== 'consecutive' && this.c.slowMs !== undefined && now - started >= this.c.slowMs;
    this.window.push({ failed: cls === 'failure', slow });
    if ((cls === 'failure' || slow) && this.trips()) this.open(now);
  }
}

const configArb: fc.Arbitrary<Config> = fc
  .record({
    window: fc.oneof(
      fc.record({ kind: fc.constant('consecutive' as const), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({
        kind: fc.constant('count' as const),
        size: fc.integer({ min: 1, max: 6 }),
        minimumCalls: fc.integer({ min: 1, max: 6 }),
      }),
    ),
    failureRate: fc.integer({ min: 1, max: 100 }),
    slowMs: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    slowRate: fc.integer({ min: 1, max: 100 }),
    openMs: fc.integer({ min: 1, max: 50 }),
    permitted: fc.integer({ min: 1, max: 3 }),
    successThreshold: fc.integer({ min: 1, max: 3 }),
    maxHalfOpenMs: fc.integer({ min: 1, max: 80 }),
  })
  .map((c) => ({ ...c, successThreshold: Math.min(c.successThreshold, c.permitted) }));

// Weighted toward many overlapping calls, so outcomes of calls admitted several transitions ago are common.
const opArb = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('start' as const) }), weight: 4 },
  {
    arbitrary: fc.record({
      op: fc.constant('finish' as const),
      pick: fc.nat(),
      cls: fc.constantFrom<Cls>('success', 'success', 'failure', 'failure', 'ignore'),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 40 }) }), weight: 2 },
);

describe('circuit breaker model', () => {
  it('admits, refuses and changes state exactly as the reference state machine, with overlapping calls (property)', () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { minLength: 1, maxLength: 150 }), (c, ops) => {
        const { clock, advance } = manualClock();
        const breaker = circuitBreaker({
          window:
            c.window.kind === 'consecutive'
              ? consecutive(c.window.n)
              : countWindow({ size: c.window.size, minimumCalls: c.window.minimumCalls }),
          failureRateThreshold: c.failureRate / 100,
          slowCallDurationMs: c.slowMs,
          slowCallRateThreshold: c.slowRate / 100,
          openMs: c.openMs,
          halfOpen: {
            permittedCalls: c.permitted,
            successThreshold: c.successThreshold,
            maxHalfOpenMs: c.maxHalfOpenMs,
          },
          clock,
        });
        const model = new Model(c);
        const inFlight: { permit: CircuitPermit; gen: number; started: number }[] = [];
        for (const op of ops) {
          const now = clock.now();
          if (op.op === 'advance') advance(op.ms);
          else if (op.op === 'start') {
            const permit = breaker.tryAcquire();
            const gen = model.admit(now);
            expect(permit !== undefined, `admission at ${now}`).toBe(gen !== undefined);
            if (permit && gen !== undefined) inFlight.push({ permit, gen, started: now });
          } else if (inFlight.length > 0) {
            const [call] = inFlight.splice(op.pick % inFlight.length, 1);
            if (op.cls === 'success') call!.permit.success();
            else if (op.cls === 'failure') call!.permit.failure(new Error('x'));
            else call!.permit.ignore();
            model.finish(call!.gen, op.cls, call!.started, now);
          }
          model.tick(clock.now());
          expect(breaker.state).toBe(model.state);
          expect(breaker.counts).toEqual(model.counts());
          expect(breaker.retryAfterMs).toBe(model.retryAfter(clock.now()));
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
