import { describe, expect, it, vi } from 'vitest';
import { BulwarkError, compose, handleResult, timeout, type ExecuteContext } from '@bulwark/core';
import { neverAbortedSignal } from '@bulwark/core/internal';
import { VirtualClock } from '@bulwark/core/testing';
import { constant, exponential, parseRetryAfter, retry, retryAfterFromResponse } from '@bulwark/retry';
import { sleep } from '../src/sleep.js';

/** A function whose attempt n fails when plan[n-1] is false; each attempt takes `ms` on the clock. */
function planned(clock: VirtualClock, plan: boolean[], ms = 0) {
  const calls: { attempt: number; at: number }[] = [];
  const fn = (ctx: ExecuteContext) => {
    calls.push({ attempt: ctx.attempt, at: clock.now() });
    const ok = plan[calls.length - 1] ?? true;
    return new Promise<string>((resolve, reject) =>
      clock.setTimeout(() => (ok ? resolve(`ok@${calls.length}`) : reject(new Error(`fail@${calls.length}`))), ms),
    );
  };
  return { fn, calls };
}

async function settled<T>(clock: VirtualClock, p: Promise<T>) {
  const r: { value?: T; error?: unknown; at?: number } = {};
  const done = p.then(
    (value) => Object.assign(r, { value, at: clock.now() }),
    (error: unknown) => Object.assign(r, { error, at: clock.now() }),
  );
  await clock.runAll();
  await done;
  return r;
}

describe('retry', () => {
  it("aborting during a backoff sleep settles at once with the abort reason and never calls again (cockatiel's bug)", async () => {
    const clock = new VirtualClock();
    const { fn, calls } = planned(clock, [false, true]);
    const caller = new AbortController();
    const p = retry({ backoff: constant(1_000), clock }).execute(fn, caller.signal);
    const r: { error?: unknown; at?: number } = {};
    const done = p.catch((error: unknown) => Object.assign(r, { error, at: clock.now() }));
    await clock.advance(50);
    const reason = new Error('caller gave up');
    caller.abort(reason);
    await done;
    expect(r).toEqual({ error: reason, at: 50 });
    await clock.runAll();
    expect(calls).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('each attempt runs the inner layers again and sees its attempt number', async () => {
    const clock = new VirtualClock();
    const attempts: number[] = [];
    const p = compose(
      retry({ maxAttempts: 3, backoff: constant(10), clock }),
      timeout(100, { clock, strategy: 'aggressive' }),
    ).execute((ctx) => {
      attempts.push(ctx.attempt);
      return ctx.attempt < 3 ? new Promise(() => {}) : Promise.resolve('third time');
    });
    const r = await settled(clock, p);
    expect(r.value).toBe('third time');
    expect(attempts).toEqual([1, 2, 3]);
    expect(r.at).toBe(100 + 10 + 100 + 10);
  });

  it('retries results that retryOn selects (a 503 response) without throwing', async () => {
    const clock = new VirtualClock();
    const responses = [new Response('busy', { status: 503 }), new Response('ok', { status: 200 })];
    const policy = retry({
      backoff: constant(5),
      clock,
      retryOn: (o) => (o.kind === 'error' ? true : (o.value as Response).status >= 500),
    });
    const r = await settled(
      clock,
      policy.execute(async () => responses.shift()!),
    );
    expect((r.value as Response).status).toBe(200);
  });

  it("retryOn from cockatiel's builders: handled errors and results are retried, others surface at once", async () => {
    const clock = new VirtualClock();
    const policy = retry({
      backoff: constant(5),
      clock,
      maxAttempts: 5,
      retryOn: handleResult<Response>((r) => r.status === 503).orWhen((e) => (e as Error).message === 'ECONNRESET'),
    });
    const outcomes: (() => Promise<Response>)[] = [
      () => Promise.resolve(new Response('busy', { status: 503 })),
      () => Promise.reject(new Error('ECONNRESET')),
      () => Promise.resolve(new Response('ok', { status: 200 })),
    ];
    const ok = await settled(
      clock,
      policy.execute(() => outcomes.shift()!()),
    );
    expect((ok.value as Response).status).toBe(200);
    let calls = 0;
    const bug = await settled(
      clock,
      policy.execute(() => {
        calls++;
        return Promise.reject(new TypeError('bug'));
      }),
    );
    expect(bug.error).toBeInstanceOf(TypeError);
    expect(calls).toBe(1);
  });

  it('returns the last value when attempts run out on a retryable result', async () => {
    const clock = new VirtualClock();
    const policy = retry({ maxAttempts: 2, backoff: constant(1), clock, retryOn: (o) => o.kind === 'value' });
    const r = await settled(
      clock,
      policy.execute(async (ctx) => `value ${ctx.attempt}`),
    );
    expect(r.value).toBe('value 2');
  });

  it('waits for server pushback instead of the backoff: Retry-After seconds on a response, up to maxDelayMs', async () => {
    const clock = new VirtualClock();
    const seen = vi.fn();
    const policy = retry({
      backoff: constant(1),
      clock,
      maxDelayMs: 5_000,
      retryOn: (o) => o.kind === 'value' && (o.value as Response).status === 429,
    });
    policy.onRetry(seen);
    const replies = [
      new Response(null, { status: 429, headers: { 'retry-after': '2' } }),
      new Response(null, { status: 429, headers: { 'retry-after': '5' } }),
      new Response(null, { status: 200 }),
    ];
    const r = await settled(
      clock,
      policy.execute(async () => replies.shift()!),
    );
    expect((r.value as Response).status).toBe(200);
    expect(seen.mock.calls.map(([e]) => [e.delayMs, e.delaySource])).toEqual([
      [2_000, 'retry-after'],
      [5_000, 'retry-after'],
    ]);
    expect(r.at).toBe(7_002); // each pushback wait is padded by 1 ms
  });

  it('ends the retry at once when the pushback asks for longer than maxDelayMs, surfacing that outcome', async () => {
    const clock = new VirtualClock();
    const giveUps = vi.fn();
    const policy = retry({
      clock,
      maxDelayMs: 5_000,
      retryOn: (o) => o.kind === 'value' && (o.value as Response).status === 429,
    });
    policy.onGiveUp(giveUps);
    const replies = [
      new Response(null, { status: 429, headers: { 'retry-after': '3600' } }),
      new Response(null, { status: 200 }),
    ];
    const r = await settled(
      clock,
      policy.execute(async () => replies.shift()!),
    );
    expect((r.value as Response).status).toBe(429);
    expect(r.at).toBe(0);
    expect(replies).toHaveLength(1);
    expect(giveUps).toHaveBeenCalledWith(expect.objectContaining({ attempts: 1, reason: 'retry-after' }));
  });

  it("waits for a Bulwark error's retryAfterMs (e.g. a rate limit)", async () => {
    const clock = new VirtualClock();
    const errors = [new BulwarkError('BULWARK_RATE_LIMITED', 'slow down', { retryAfterMs: 750 })];
    const r = await settled(
      clock,
      retry({ backoff: constant(1), clock }).execute(async () => {
        const e = errors.shift();
        if (e) throw e;
        return 'admitted';
      }),
    );
    expect(r).toEqual({ value: 'admitted', at: 751 });
  });

  it("surfaces a circuit breaker's refusal at once by default, and waits for it with waitForCircuit", async () => {
    const refusal = () => new BulwarkError('BULWARK_CIRCUIT_OPEN', 'open', { retryAfterMs: 750 });
    for (const waitForCircuit of [false, true]) {
      const clock = new VirtualClock();
      const errors = [refusal()];
      const giveUps = vi.fn();
      const policy = retry({ backoff: constant(1), clock, waitForCircuit });
      policy.onGiveUp(giveUps);
      const r = await settled(
        clock,
        policy.execute(async () => {
          const e = errors.shift();
          if (e) throw e;
          return 'closed again';
        }),
      );
      if (waitForCircuit) expect(r).toEqual({ value: 'closed again', at: 751 });
      else {
        expect(r).toEqual({ error: expect.objectContaining({ code: 'BULWARK_CIRCUIT_OPEN' }), at: 0 });
        expect(giveUps).toHaveBeenCalledWith(expect.objectContaining({ attempts: 1, reason: 'circuit-open' }));
      }
    }
  });

  it('with retryAfter: false the hint is ignored', async () => {
    const clock = new VirtualClock();
    let first = true;
    const r = await settled(
      clock,
      retry({ backoff: constant(10), clock, retryAfter: false }).execute(async () => {
        if (first) {
          first = false;
          throw Object.assign(new Error('slow down'), { retryAfterMs: 60_000 });
        }
        return 'ok';
      }),
    );
    expect(r.at).toBe(10);
  });

  it("never retries the caller's own abort", async () => {
    const caller = new AbortController();
    const fn = vi.fn(async (ctx: ExecuteContext) => {
      caller.abort(new Error('stop'));
      throw ctx.signal.reason;
    });
    await expect(retry({ backoff: constant(0) }).execute(fn, caller.signal)).rejects.toThrow('stop');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('passes synchronous successes straight through with no timer', async () => {
    const clock = new VirtualClock();
    await expect(retry({ clock }).execute(() => 5)).resolves.toBe(5);
    expect(clock.pendingTimers).toBe(0);
  });

  it('tells onRetry before each retry and onGiveUp when it surfaces a failure', async () => {
    const clock = new VirtualClock();
    const retries = vi.fn();
    const giveUps = vi.fn();
    const policy = retry({
      maxAttempts: 3,
      backoff: exponential({ baseMs: 10, jitter: 'none' }),
      clock,
      name: 'users',
    });
    policy.onRetry(retries);
    policy.onGiveUp(giveUps);
    const r = await settled(clock, policy.execute(planned(clock, [false, false, false]).fn));
    expect(r.error).toEqual(new Error('fail@3'));
    expect(retries.mock.calls.map(([e]) => [e.attempt, e.delayMs])).toEqual([
      [2, 10],
      [3, 20],
    ]);
    expect(giveUps).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'users', attempts: 3, reason: 'max-attempts' }),
    );
  });

  it('rejects bad options naming the field', () => {
    expect(() => retry({ maxAttempts: 0 })).toThrow(expect.objectContaining({ field: 'maxAttempts' }));
    expect(() => retry({ backoff: 5 as never })).toThrow(expect.objectContaining({ field: 'backoff' }));
    expect(() => retry({ budget: {} as never })).toThrow(expect.objectContaining({ field: 'budget' }));
    expect(() => retry({ maxDelayMs: -1 })).toThrow(expect.objectContaining({ field: 'maxDelayMs' }));
    expect(() => retry({ waitForCircuit: 'yes' as never })).toThrow(
      expect.objectContaining({ field: 'waitForCircuit' }),
    );
    expect(() => retry({ tries: 3 } as never)).toThrow(/tries/);
  });
});

describe('Retry-After parsing', () => {
  it('reads delay-seconds and HTTP-dates, and nothing else', () => {
    const now = Date.parse('Sun, 22 Nov 2026 10:00:00 GMT');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sunday, 22-Nov-26 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now)).toBe(0);
    for (const bad of ['-1', '1.5', 'soon', '', '2026-11-22T10:00:30Z', undefined, null]) {
      expect(parseRetryAfter(bad, now)).toBeUndefined();
    }
    expect(retryAfterFromResponse(new Response(null, { headers: { 'retry-after': '7' } }))).toBe(7_000);
  });
});

describe('sleep', () => {
  it('sleeps out a timer that fires early, so a wait never ends before its deadline by the clock', async () => {
    const virtual = new VirtualClock();
    // Node's timers run on the loop's cached time and can fire a few ms before the clock says the delay is over.
    let stale = true;
    const early = {
      now: () => virtual.now(),
      setTimeout: (fn: () => void, ms: number) => {
        const at = stale ? ms - 3 : ms;
        stale = false;
        return virtual.setTimeout(fn, at);
      },
      clearTimeout: (handle: unknown) => virtual.clearTimeout(handle),
    };
    let doneAt: number | undefined;
    void sleep(10, neverAbortedSignal, early).then(() => (doneAt = virtual.now()));
    await virtual.advance(7);
    expect(doneAt).toBeUndefined();
    await virtual.runAll();
    expect(doneAt).toBeGreaterThanOrEqual(10);
  });
});
