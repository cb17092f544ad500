import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compose, timeout, type ExecuteContext, type PolicyFn } from '@bulwark/core';
import { BasePolicy, policyRun, type PolicyNext } from '@bulwark/core/internal';
import { VirtualClock } from '@bulwark/core/testing';
import { circuitBreaker, consecutive, type CircuitState } from '@bulwark/circuit-breaker';
import { constant, retry } from '@bulwark/retry';

/** Records when each attempt reaches the layers inside it, and whether the breaker refused it. */
class AttemptLog extends BasePolicy {
  override readonly policyKind = 'attempt-log';
  readonly attempts: { at: number; refused: boolean }[] = [];
  constructor(private readonly clock: VirtualClock) {
    super();
  }
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | PromiseLike<T> {
    const entry = { at: this.clock.now(), refused: false };
    this.attempts.push(entry);
    try {
      return next(fn, ctx);
    } catch (error) {
      entry.refused = (error as { code?: string }).code === 'BULWARK_CIRCUIT_OPEN';
      throw error;
    }
  }
}

const failing = (clock: VirtualClock, ms: number) => () =>
  new Promise<never>((_, reject) => clock.setTimeout(() => reject(new Error('upstream down')), ms));

const fail = (): never => {
  throw new Error('upstream down');
};

describe('retry around a circuit breaker', () => {
  it("fails fast through an open circuit with the defaults (the README's compose(retry, circuitBreaker, timeout))", async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ window: consecutive(1), clock });
    const policy = compose(retry({ clock }), breaker, timeout(100, { clock }));
    const opened = policy.execute(failing(clock, 10)).catch((e: unknown) => e);
    await clock.runAll();
    await opened;
    expect(breaker.state).toBe('open');
    const startedAt = clock.now();
    let settledAt: number | undefined;
    const refused = policy
      .execute(async () => 'never called')
      .catch((e: unknown) => {
        settledAt = clock.now();
        return e;
      });
    await clock.runAll();
    expect(await refused).toMatchObject({ code: 'BULWARK_CIRCUIT_OPEN' });
    expect(settledAt).toBe(startedAt); // was 30 s: the retry slept out the open circuit
  });

  it('with waitForCircuit, a caller refused during a half-open trial wakes when the trial closes the circuit', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ window: consecutive(1), openMs: 1_000, clock });
    await breaker.execute(fail).catch(() => undefined);
    await clock.advance(1_000);
    // The trial: succeeds 10 ms from now.
    const trial = breaker.execute(() => new Promise<string>((resolve) => clock.setTimeout(() => resolve('trial'), 10)));
    expect(breaker.state).toBe('half-open');
    const log = new AttemptLog(clock);
    const waiting = compose(retry({ clock, waitForCircuit: true }), log, breaker).execute(
      async () => 'after the trial',
    );
    let value: string | undefined;
    void waiting.then((v) => (value = v));
    await clock.advance(10);
    expect(await trial).toBe('trial');
    expect(breaker.state).toBe('closed');
    await clock.advance(0);
    expect(value).toBe('after the trial'); // the refusal's hint was 60 s: what is left of maxHalfOpenMs
    expect(log.attempts).toEqual([
      { at: 1_000, refused: true },
      { at: 1_010, refused: false },
    ]);
  });

  it('with waitForCircuit, never waits longer than maxDelayMs: a circuit open for longer ends the retry at once', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ window: consecutive(1), openMs: 5_000, clock });
    await breaker.execute(fail).catch(() => undefined);
    const log = new AttemptLog(clock);
    const r = compose(retry({ clock, waitForCircuit: true, maxDelayMs: 1_000 }), log, breaker)
      .execute(async () => 'unreachable')
      .catch((e: unknown) => ({ error: e, at: clock.now() }));
    await clock.runAll();
    expect(await r).toMatchObject({ error: { code: 'BULWARK_CIRCUIT_OPEN' }, at: 0 });
    expect(log.attempts).toHaveLength(1);
  });

  it('never sleeps past maxDelayMs per attempt nor past a change that lets calls in (property, virtual clock)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          failuresToOpen: fc.integer({ min: 1, max: 3 }),
          openMs: fc.integer({ min: 5, max: 400 }),
          maxHalfOpenMs: fc.integer({ min: 5, max: 400 }),
          maxDelayMs: fc.integer({ min: 0, max: 600 }),
          backoffMs: fc.integer({ min: 0, max: 50 }),
          waitForCircuit: fc.boolean(),
          // Other traffic through the same breaker: when it starts, how long it runs, how it ends.
          traffic: fc.array(
            fc.record({
              at: fc.integer({ min: 0, max: 1_500 }),
              ms: fc.integer({ min: 0, max: 100 }),
              ok: fc.boolean(),
            }),
            {
              maxLength: 25,
            },
          ),
          // The retried call's attempts that reach the dependency: ok or not, and how long each takes.
          plan: fc.array(fc.record({ ms: fc.integer({ min: 0, max: 100 }), ok: fc.boolean() }), {
            minLength: 1,
            maxLength: 8,
          }),
          startAt: fc.integer({ min: 0, max: 800 }),
        }),
        async (s) => {
          const clock = new VirtualClock();
          const breaker = circuitBreaker({
            window: consecutive(s.failuresToOpen),
            openMs: s.openMs,
            halfOpen: { maxHalfOpenMs: s.maxHalfOpenMs },
            clock,
          });
          const changes: { at: number; to: CircuitState }[] = [];
          breaker.onStateChange(({ to }) => changes.push({ at: clock.now(), to }));
          for (const t of s.traffic) {
            clock.setTimeout(() => {
              breaker
                .execute(
                  () =>
                    new Promise<void>((resolve, reject) =>
                      clock.setTimeout(() => (t.ok ? resolve() : reject(new Error('x'))), t.ms),
                    ),
                )
                .catch(() => undefined);
            }, t.at);
          }
          const log = new AttemptLog(clock);
          let calls = 0;
          const policy = compose(
            retry({
              clock,
              maxAttempts: 6,
              backoff: constant(s.backoffMs),
              maxDelayMs: s.maxDelayMs,
              waitForCircuit: s.waitForCircuit,
            }),
            log,
            breaker,
          );
          let result: { at: number; error?: unknown } | undefined;
          clock.setTimeout(() => {
            void policy
              .execute(() => {
                const step = s.plan[calls++ % s.plan.length]!;
                return new Promise<string>((resolve, reject) =>
                  clock.setTimeout(() => (step.ok ? resolve('ok') : reject(new Error('down'))), step.ms),
                );
              })
              .then(
                () => (result = { at: clock.now() }),
                (error: unknown) => (result = { at: clock.now(), error }),
              );
          }, s.startAt);
          await clock.runAll();
          expect(result).toBeDefined();

          const attempts = log.attempts;
          for (let i = 1; i < attempts.length; i++) {
            const before = attempts[i - 1]!;
            if (!before.refused) continue;
            // The previous attempt was refused by the circuit: only a retry that waits for circuits tries again.
            expect(s.waitForCircuit).toBe(true);
            const next = attempts[i]!;
            expect(next.at - before.at).toBeLessThanOrEqual(s.maxDelayMs + 1);
            // It slept through no change that let calls in: no close, and no half-open whose trial slot it could have
            // taken (one that other traffic took at that very moment does not count).
            const during = changes.filter((c) => c.at > before.at && c.at < next.at);
            expect(during.filter((c) => c.to === 'closed')).toEqual([]);
            expect(during.filter((c) => c.to === 'half-open' && !s.traffic.some((t) => t.at === c.at))).toEqual([]);
          }
          const last = attempts[attempts.length - 1]!;
          if (last.refused) {
            expect(result!.error).toMatchObject({ code: 'BULWARK_CIRCUIT_OPEN' });
            // A refusal that ends the call surfaces at once by default; a waiting retry gives up within its cap
            // (when a state change shows the circuit will stay shut longer than that).
            if (s.waitForCircuit) expect(result!.at - last.at).toBeLessThanOrEqual(s.maxDelayMs + 1);
            else expect(result!.at).toBe(last.at);
          }
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
