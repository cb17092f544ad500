import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { compose, fallback, noop, timeout, type ExecuteContext, type Policy, type PolicyFn } from '@bulwark/core';
import { BasePolicy, policyRun, type PolicyNext } from '@bulwark/core/internal';

/** A layer that logs entering and leaving, and what context it was given. */
class Recorder extends BasePolicy {
  constructor(
    readonly id: number,
    readonly log: string[],
  ) {
    super();
  }
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | PromiseLike<T> {
    this.log.push(`enter ${this.id}`);
    const leave = <V>(v: V) => {
      this.log.push(`leave ${this.id}`);
      return v;
    };
    const r = next(fn, ctx);
    return r instanceof Promise ? (r.then(leave) as PromiseLike<T>) : leave(r);
  }
}

/** A policy that is not a Bulwark policy: only `execute`. */
const foreign = (log: string[]): Policy => ({
  async execute(fn, signal) {
    log.push('enter foreign');
    const v = await fn({ signal: signal ?? new AbortController().signal, attempt: 1 });
    log.push('leave foreign');
    return v;
  },
});

describe('compose', () => {
  it('runs the first policy outermost, for any number of layers (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 8 }), fc.boolean(), async (n, async) => {
        const log: string[] = [];
        const layers = Array.from({ length: n }, (_, i) => new Recorder(i, log));
        const result = await compose(...layers).execute(() => {
          log.push('fn');
          return async ? Promise.resolve(n) : n;
        });
        expect(result).toBe(n);
        const ids = [...Array(n).keys()];
        expect(log).toEqual([...ids.map((i) => `enter ${i}`), 'fn', ...ids.reverse().map((i) => `leave ${i}`)]);
      }),
    );
  });

  it('flattens nested compositions and runs foreign policies through execute', async () => {
    const log: string[] = [];
    const inner = compose(new Recorder(1, log), foreign(log));
    const outer = compose(new Recorder(0, log), inner, new Recorder(2, log));
    expect(outer.policies).toHaveLength(4);
    await outer.execute(async () => log.push('fn'));
    expect(log).toEqual([
      'enter 0',
      'enter 1',
      'enter foreign',
      'enter 2',
      'fn',
      'leave 2',
      'leave foreign',
      'leave 1',
      'leave 0',
    ]);
  });

  it("hands the caller's signal through every layer, and a timeout's child signal below it", async () => {
    const caller = new AbortController();
    const seen: AbortSignal[] = [];
    const spy = new (class extends BasePolicy {
      [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext) {
        seen.push(ctx.signal);
        return next(fn, ctx);
      }
    })();
    let innermost!: AbortSignal;
    const p = compose(spy, timeout(10_000), spy).execute(
      (ctx) =>
        new Promise((_, reject) => {
          innermost = ctx.signal;
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error));
        }),
      caller.signal,
    );
    expect(seen[0]).toBe(caller.signal);
    expect(seen[1]).not.toBe(caller.signal); // the timeout's child
    expect(innermost).toBe(seen[1]);
    caller.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(innermost.aborted).toBe(true);
  });

  it("signal propagation (property): whatever the stack, the caller's abort reaches the function and rejects with the caller's reason", async () => {
    const layer = fc.constantFrom('pass', 'timeout', 'fallback', 'foreign');
    await fc.assert(
      fc.asyncProperty(fc.array(layer, { maxLength: 6 }), fc.boolean(), async (kinds, abort) => {
        const log: string[] = [];
        const layers = kinds.map((k) =>
          k === 'pass'
            ? new Recorder(0, log)
            : k === 'timeout'
              ? timeout(60_000)
              : k === 'fallback'
                ? fallback('substitute')
                : foreign(log),
        );
        const caller = new AbortController();
        let seen: AbortSignal | undefined;
        let finish!: () => void;
        const p = compose(...layers).execute(
          (ctx) =>
            new Promise<string>((resolve, reject) => {
              seen = ctx.signal;
              finish = () => resolve('done');
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error));
            }),
          caller.signal,
        );
        const reason = new Error('caller aborted');
        if (abort) caller.abort(reason);
        else finish();
        const outcome = await p.then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        if (abort) {
          expect(seen!.aborted).toBe(true);
          expect(seen!.reason).toBe(reason);
          // Foreign policies see a different signal object but the same abort; no layer substitutes it.
          expect(outcome).toEqual({ error: reason });
        } else {
          expect(seen!.aborted).toBe(false);
          expect(outcome).toEqual({ value: 'done' });
        }
      }),
      { numRuns: 150 },
    );
  });

  it('turns synchronous values and throws into promises, and never throws synchronously', async () => {
    const policy = compose(noop, noop);
    await expect(policy.execute(() => 3)).resolves.toBe(3);
    const throwing = () => {
      throw new Error('sync');
    };
    let returned: Promise<unknown> | undefined;
    expect(() => (returned = policy.execute(throwing))).not.toThrow();
    await expect(returned).rejects.toThrow('sync');
    await expect(compose().execute(() => 'empty')).resolves.toBe('empty');
  });

  it('returns the function’s own promise when every layer passes through (no extra promise)', () => {
    const own = Promise.resolve(1);
    expect(compose(noop, noop, noop, noop).execute(() => own)).toBe(own);
  });

  it('types flow through: fallback values join the result type', async () => {
    const policy = compose(fallback('offline' as const), timeout(100));
    const result = policy.execute(async () => 42);
    expectTypeOf(result).resolves.toEqualTypeOf<number | 'offline'>();
    expectTypeOf(compose(timeout(1), noop).execute(() => 'x')).resolves.toEqualTypeOf<string>();
    await expect(result).resolves.toBe(42);
  });
});
