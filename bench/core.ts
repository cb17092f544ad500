/**
 * Policy-kernel cases. Each case is a factory returning the async function to time; `scripts/bench.mjs` runs every
 * case in its own process (run order inside one process skews async micro-benchmarks by ~20% here).
 */
import { compose, timeout, type ExecuteContext, type PolicyFn } from '@bulwark/core';
import { BasePolicy, policyRun, type PolicyNext } from '@bulwark/core/internal';
import { noop as cockatielNoop, timeout as cockatielTimeout, TimeoutStrategy, wrap } from 'cockatiel';

const work = async (): Promise<number> => 1;

/** A user-written pass-through layer: measures the kernel, not a shortcut for a built-in no-op. */
class PassThrough extends BasePolicy {
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | PromiseLike<T> {
    return next(fn, ctx);
  }
}

export const cases: Record<string, () => () => Promise<unknown>> = {
  'await (floor)': () => () => work(),
  'bulwark timeout (cooperative)': () => {
    const t = timeout(10_000);
    return () => t.execute(work);
  },
  'bulwark timeout (aggressive)': () => {
    const t = timeout(10_000, { strategy: 'aggressive' });
    return () => t.execute(work);
  },
  'bulwark timeout, fn reads ctx.signal': () => {
    const t = timeout(10_000);
    return () => t.execute((ctx) => (ctx.signal, work()));
  },
  'Promise.race + setTimeout (naive)': () => () => {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      work(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 10_000))),
    ]).finally(() => clearTimeout(timer));
  },
  'cockatiel timeout (cooperative)': () => {
    const t = cockatielTimeout(10_000, TimeoutStrategy.Cooperative);
    return () => t.execute(work);
  },
  'cockatiel timeout (aggressive)': () => {
    const t = cockatielTimeout(10_000, TimeoutStrategy.Aggressive);
    return () => t.execute(work);
  },
  'bulwark compose(4 pass-through)': () => {
    const p = compose(new PassThrough(), new PassThrough(), new PassThrough(), new PassThrough());
    return () => p.execute(work);
  },
  'cockatiel wrap(4 noop)': () => {
    const p = wrap(cockatielNoop, cockatielNoop, cockatielNoop, cockatielNoop);
    return () => p.execute(work);
  },
};
