import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { compose, handleType, type Clock } from '@bulwark/core';
import { VirtualClock } from '@bulwark/core/testing';
import { bulkhead } from '@bulwark/bulkhead';
import { retry, constant } from '@bulwark/retry';
import { circuitBreaker, consecutive, countWindow, isBrokenCircuitError, timeWindow } from '@bulwark/circuit-breaker';

function manualClock(start = 0) {
  let t = start;
  const clock: Clock = { now: () => t, setTimeout: () => 0, clearTimeout: () => {} };
  return { clock, advance: (ms: number) => (t += ms) };
}
const fail = () => Promise.reject(new Error('dependency failed'));
const ok = () => Promise.resolve('ok');

describe('circuit breaker', () => {
  it('a success admitted while closed never closes a circuit that has since gone half-open (opossum closes it)', async () => {
    const { clock, advance } = manualClock();
    const breaker = circuitBreaker({ window: consecutive(1), openMs: 100, clock });
    let finishOld!: () => void;
    const old = breaker.execute(() => new Promise<string>((r) => (finishOld = () => r('late success'))));
    await expect(breaker.execute(fail)).rejects.toThrow('dependency failed');
    expect(breaker.state).toBe('open');
    advance(100);
    expect(breaker.state).toBe('half-open');
    const trial = breaker.tryAcquire()!; // the trial is in flight, undecided
    finishOld();
    await expect(old).resolves.toBe('late success');
    expect(breaker.state).toBe('half-open'); // the stale success did not close it
    trial.success();
    expect(breaker.state).toBe('closed');
  });

  it('calls pending from the closed state that succeed while it is open do not close it (opossum#381)', async () => {
    const { clock } = manualClock();
    const breaker = circuitBreaker({ window: consecutive(2), openMs: 1_000, clock });
    const finish: (() => void)[] = [];
    const pending = Array.from({ length: 3 }, () =>
      breaker.execute(() => new Promise<string>((r) => finish.push(() => r('late')))),
    );
    await breaker.execute(fail).catch(() => {});
    await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe('open');
    finish.forEach((f) => f());
    await Promise.all(pending);
    expect(breaker.state).toBe('open');
    await expect(breaker.execute(ok)).rejects.toMatchObject({ state: 'open' });
  });

  it('holds no timers, whatever it goes through (opossum keeps intervals per breaker until shutdown)', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      window: timeWindow({ windowMs: 5_000, minimumCalls: 1 }),
      slowCallDurationMs: 10,
      openMs: 50,
      clock,
    });
    await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe('open');
    await clock.advance(50);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    expect(clock.pendingTimers).toBe(0);
  });

  it('time window: failures from before an idle gap do not count (cockatiel#64 counts failures from minutes ago)', async () => {
    const { clock, advance } = manualClock();
    const breaker = circuitBreaker({
      window: timeWindow({ windowMs: 10_000, minimumCalls: 5 }),
      failureRateThreshold: 0.5,
      clock,
    });
    for (let i = 0; i < 4; i++) await breaker.execute(fail).catch(() => {});
    advance(5 * 60_000);
    await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe('closed');
    expect(breaker.counts).toEqual({ calls: 1, failures: 1, slow: 0 });
    for (let i = 0; i < 4; i++) await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe('open');
  });

  it('opens on the slow-call rate, even when every call succeeds', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      window: countWindow({ size: 4, minimumCalls: 4 }),
      slowCallDurationMs: 100,
      slowCallRateThreshold: 0.5,
      clock,
    });
    const slow = () => new Promise<string>((r) => clock.setTimeout(() => r('slow ok'), 150));
    for (const fn of [ok, slow, ok, slow]) {
      const p = breaker.execute(fn);
      await clock.runAll();
      await expect(p).resolves.toBeDefined();
    }
    expect(breaker.counts).toEqual({ calls: 4, failures: 0, slow: 2 });
    expect(breaker.state).toBe('open');
  });

  it('half-open: admits permittedCalls trials, refuses others at once (not parked), closes on successThreshold', async () => {
    const { clock, advance } = manualClock();
    const breaker = circuitBreaker({
      window: consecutive(1),
      openMs: 50,
      halfOpen: { permittedCalls: 2, successThreshold: 2 },
      clock,
    });
    await breaker.execute(fail).catch(() => {});
    advance(50);
    const a = breaker.tryAcquire()!;
    const b = breaker.tryAcquire()!;
    const refused = breaker.execute(ok);
    await expect(refused).rejects.toMatchObject({ code: 'BULWARK_CIRCUIT_OPEN', state: 'half-open' });
    a.success();
    expect(breaker.state).toBe('half-open');
    b.success();
    expect(breaker.state).toBe('closed');
  });

  it('half-open: an ignored trial gives its slot back; trials that never report re-open after maxHalfOpenMs', async () => {
    const { clock, advance } = manualClock();
    const breaker = circuitBreaker({ window: consecutive(1), openMs: 50, halfOpen: { maxHalfOpenMs: 200 }, clock });
    await breaker.execute(fail).catch(() => {});
    advance(50);
    breaker.tryAcquire()!.ignore();
    const stuck = breaker.tryAcquire();
    expect(stuck).toBeDefined(); // the ignored trial's slot was given back
    expect(breaker.tryAcquire()).toBeUndefined();
    advance(200); // the trial never reports
    expect(breaker.state).toBe('open');
    stuck!.success(); // far too late, and from an earlier generation
    expect(breaker.state).toBe('open');
  });

  it('open duration grows on repeated re-opens and resets once closed; rejections carry retryAfterMs', async () => {
    const { clock, advance } = manualClock();
    const changes = vi.fn();
    const breaker = circuitBreaker({
      window: consecutive(1),
      openMs: (opens) => 100 * 2 ** (opens - 1),
      clock,
      name: 'upstream',
    });
    breaker.onStateChange(changes);
    await breaker.execute(fail).catch(() => {});
    advance(40);
    // The breaker is the refusal's gate: a waiting caller reads its wait and its state changes from there.
    await expect(breaker.execute(ok)).rejects.toMatchObject({ retryAfterMs: 60, state: 'open', gate: breaker });
    expect(breaker.tryAcquire()).toBeUndefined();
    advance(60);
    await breaker.execute(fail).catch(() => {}); // the trial fails: open again, for longer
    expect(changes.mock.calls.map(([e]) => [e.from, e.to, e.openMs])).toEqual([
      ['closed', 'open', 100],
      ['open', 'half-open', undefined],
      ['half-open', 'open', 200],
    ]);
    advance(200);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await breaker.execute(fail).catch(() => {});
    expect(changes.mock.calls.at(-1)![0]).toMatchObject({ to: 'open', openMs: 100 });
  });

  it("onBreak, onHalfOpen and onReset each see only their own changes (cockatiel's names), and unsubscribe", async () => {
    const { clock, advance } = manualClock();
    const breaker = circuitBreaker({ window: consecutive(1), openMs: 100, clock });
    const seen: string[] = [];
    breaker.onBreak((e) => seen.push(`break ${e.from}->${e.to}`));
    breaker.onHalfOpen((e) => seen.push(`half-open ${e.from}->${e.to}`));
    const offReset = breaker.onReset((e) => seen.push(`reset ${e.from}->${e.to}`));
    await breaker.execute(fail).catch(() => {});
    advance(100);
    await breaker.execute(ok);
    const isolation = breaker.isolate();
    isolation.dispose();
    offReset();
    await breaker.execute(fail).catch(() => {});
    advance(100);
    await breaker.execute(ok);
    expect(seen).toEqual([
      'break closed->open',
      'half-open open->half-open',
      'reset half-open->closed',
      'break closed->isolated',
      'reset isolated->closed',
      'break closed->open',
      'half-open open->half-open',
    ]);
  });

  it("bulkhead rejections never count as the dependency's failures (opossum's capacity rejections open it)", async () => {
    const breaker = circuitBreaker({ window: consecutive(3) });
    const guarded = compose(breaker, bulkhead({ maxConcurrent: 1 }));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => guarded.execute(() => new Promise((r) => setTimeout(r, 5)))),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(9);
    expect(breaker.state).toBe('closed');
  });

  it("a retry with waitForCircuit waits for the open circuit's retryAfterMs, then the trial closes it", async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ window: consecutive(1), openMs: 500, clock });
    let calls = 0;
    const p = compose(retry({ maxAttempts: 3, backoff: constant(1), clock, waitForCircuit: true }), breaker).execute(
      async () => {
        if (++calls === 1) throw new Error('blip');
        return 'recovered';
      },
    );
    const done = p.then((v) => [v, clock.now()]);
    await clock.runAll();
    expect(await done).toEqual(['recovered', 501]); // the open time plus retry's 1 ms pushback padding
    expect(calls).toBe(2);
    expect(breaker.state).toBe('closed');
  });

  it("ignores the caller's own abort", async () => {
    const breaker = circuitBreaker({ window: consecutive(1) });
    const caller = new AbortController();
    const p = breaker.execute(
      (ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))),
      caller.signal,
    );
    caller.abort(new Error('bye'));
    await expect(p).rejects.toThrow('bye');
    expect(breaker.state).toBe('closed');
  });

  it('isFailure classifies results and errors, and ignored outcomes count neither way', async () => {
    const breaker = circuitBreaker({
      window: consecutive(2),
      isFailure: (o) =>
        o.kind === 'value' ? (o.value as number) >= 500 : (o.error as Error).message === '404' ? 'ignore' : true,
    });
    await breaker.execute(async () => 503);
    await breaker.execute(() => Promise.reject(new Error('404'))).catch(() => {});
    expect(breaker.state).toBe('closed');
    await breaker.execute(async () => 500);
    expect(breaker.state).toBe('open');
  });

  it("isFailure from cockatiel's builders: handled errors and results count, other errors pass uncounted", async () => {
    class UpstreamError extends Error {}
    const breaker = circuitBreaker({
      window: consecutive(2),
      isFailure: handleType(UpstreamError).orResult<number>((status) => status >= 500),
    });
    await breaker.execute(() => Promise.reject(new UpstreamError('down'))).catch(() => {});
    // A bug in our own code (TypeError) says nothing about the upstream: ignored, so the streak is not broken.
    await breaker.execute(() => Promise.reject(new TypeError('bug'))).catch(() => {});
    expect(breaker.state).toBe('closed');
    await breaker.execute(async () => 503);
    expect(breaker.state).toBe('open');
  });

  it('isolate, disable and reset: handles release what they hold', async () => {
    const breaker = circuitBreaker({ window: consecutive(1) });
    const a = breaker.isolate();
    const b = breaker.isolate();
    await expect(breaker.execute(ok)).rejects.toMatchObject({ state: 'isolated' });
    a.dispose();
    a.dispose();
    expect(breaker.state).toBe('isolated');
    b.dispose();
    expect(breaker.state).toBe('closed');
    const off = breaker.disable();
    for (let i = 0; i < 5; i++) await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe('disabled');
    off.dispose();
    expect(breaker.state).toBe('closed');
    await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe('open');
    breaker.reset();
    expect(breaker.state).toBe('closed');
  });

  it('toJSON / initialState carry an open circuit across a cold start, counting the time in between', async () => {
    const { clock } = manualClock(1_000);
    const breaker = circuitBreaker({ window: consecutive(1), openMs: 10_000, clock });
    await breaker.execute(fail).catch(() => {});
    const saved = JSON.parse(JSON.stringify(breaker)) as ReturnType<typeof breaker.toJSON>;
    expect(saved).toMatchObject({ state: 'open', opens: 1, remainingMs: 10_000 });
    const later = vi.spyOn(Date, 'now').mockReturnValue(saved.savedAt + 4_000);
    try {
      const fresh = manualClock(0); // a new process: its monotonic clock starts over
      const restored = circuitBreaker({
        window: consecutive(1),
        openMs: 10_000,
        clock: fresh.clock,
        initialState: saved,
      });
      expect(restored.state).toBe('open');
      expect(restored.retryAfterMs).toBe(6_000);
      fresh.advance(6_000);
      expect(restored.state).toBe('half-open');
    } finally {
      later.mockRestore();
    }
  });

  it('publishes state changes on bulwark:circuit-breaker:state-change', async () => {
    const seen = vi.fn();
    diagnosticsChannel.subscribe('bulwark:circuit-breaker:state-change', seen);
    try {
      await circuitBreaker({ window: consecutive(1), name: 'c' })
        .execute(fail)
        .catch(() => {});
    } finally {
      diagnosticsChannel.unsubscribe('bulwark:circuit-breaker:state-change', seen);
    }
    expect(seen).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'c', from: 'closed', to: 'open' }),
      expect.any(String),
    );
  });

  it('rejects bad options naming the field', () => {
    expect(() => circuitBreaker({ failureRateThreshold: 0 })).toThrow(
      expect.objectContaining({ field: 'failureRateThreshold' }),
    );
    // A percent is refused, not read as a rate above 1 (resilience4j writes 50 where Bulwark and cockatiel write 0.5).
    expect(() => circuitBreaker({ failureRateThreshold: 50 })).toThrow(
      /"failureRateThreshold": must be a fraction in \(0, 1\]/,
    );
    expect(() => circuitBreaker({ slowCallRateThreshold: 80 })).toThrow(
      expect.objectContaining({ field: 'slowCallRateThreshold' }),
    );
    expect(() => circuitBreaker({ window: {} as never })).toThrow(expect.objectContaining({ field: 'window' }));
    expect(() => circuitBreaker({ halfOpen: { permittedCalls: 1, successThreshold: 2 } })).toThrow(
      expect.objectContaining({ field: 'halfOpen.successThreshold' }),
    );
    expect(() => circuitBreaker({ openMs: -5 })).toThrow(expect.objectContaining({ field: 'openMs' }));
    expect(() => countWindow({ size: 0 })).toThrow(expect.objectContaining({ field: 'size' }));
    expect(() => timeWindow({ windowMs: 0 })).toThrow(expect.objectContaining({ field: 'windowMs' }));
    expect(() => timeWindow({ windowMs: 1_500 })).toThrow(/"windowMs": must be whole seconds/);
    expect(() => timeWindow({ windowMs: '1.5s' })).toThrow(/"windowMs": must be whole seconds/);
    expect(timeWindow({ windowMs: '30s' })).toMatchObject({ kind: 'time' });
    expect(() => timeWindow({ seconds: 10 } as never)).toThrow(/"seconds": unknown option/);
    expect(() => consecutive(0)).toThrow(expect.objectContaining({ field: 'n' }));
    expect(() => circuitBreaker({ treshold: 5 } as never)).toThrow(expect.objectContaining({ field: 'treshold' }));
    expect(isBrokenCircuitError(new Error('x'))).toBe(false);
  });
});
