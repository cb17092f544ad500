import type { Clock } from '@bulwark/core';
import { functionSchema, neverAbortedSignal } from '@bulwark/core/internal';
import { z } from 'zod';
import {
  clockOption,
  FaultPolicy,
  InjectedFaultError,
  parseFaultOptions,
  wait,
  type FaultOptions,
} from './fault-policy.js';

/**
 * Fails the share `rate` of calls without calling them: throws `error` (an error, or a function making one), by
 * default an {@link InjectedFaultError} (`BULWARK_FAULT_INJECTED`).
 *
 * @example
 * ```ts
 * const policy = compose(retry(), circuitBreaker(), faults({ rate: 0.2, random: seededRandom(1) }));
 * ```
 */
export function faults(options: FaultOptions & { error?: unknown }): FaultPolicy {
  const o = parseFaultOptions({ error: z.unknown().optional() }, options, 'faults()');
  const error = o.error;
  return new FaultPolicy('fault', o, () => {
    throw typeof error === 'function' ? (error as () => unknown)() : (error ?? new InjectedFaultError(o.name));
  });
}

/**
 * Delays the share `rate` of calls by `ms` (a number, or a function per call) before calling them, on `clock`
 * (a `VirtualClock` in tests). An abort during the delay rejects with the signal's reason and the call never runs.
 *
 * @example
 * ```ts
 * const slow = latency({ rate: 0.05, ms: () => 200 + Math.random() * 800 });
 * ```
 */
export function latency(options: FaultOptions & { ms: number | (() => number); clock?: Clock }): FaultPolicy {
  const o = parseFaultOptions(
    { ms: z.union([z.number().min(0), functionSchema<() => number>()]), ...clockOption },
    options,
    'latency()',
  );
  const { ms, clock } = o;
  return new FaultPolicy('latency', o, async (fn, ctx, next) => {
    await wait(clock, typeof ms === 'function' ? ms() : ms, ctx.signal);
    return next(fn, ctx);
  });
}

/**
 * Answers the share `rate` of calls with `value` (or what a function returns) without calling them: a canned
 * response, an empty list, a `Response` with status 503.
 *
 * @example
 * ```ts
 * const busy = outcome({ rate: 0.1, value: () => new Response('busy', { status: 503, headers: { 'retry-after': '1' } }) });
 * ```
 */
export function outcome<V>(options: FaultOptions & { value: V | (() => V) }): FaultPolicy {
  const o = parseFaultOptions({ value: z.unknown() }, options, 'outcome()');
  const value = o.value;
  return new FaultPolicy(
    'outcome',
    o,
    <T>() => (typeof value === 'function' ? (value as () => unknown)() : value) as T,
  );
}

/**
 * Never settles the share `rate` of calls (they are not called): what a dead upstream that keeps the socket open
 * does. Only an abort ends such a call (rejecting with the signal's reason): put a `timeout` outside it.
 *
 * @example
 * ```ts
 * const policy = compose(timeout(1_000), hang({ rate: 0.01 }));
 * ```
 */
export function hang(options: FaultOptions): FaultPolicy {
  const o = parseFaultOptions({}, options, 'hang()');
  return new FaultPolicy(
    'hang',
    o,
    <T>(_fn: unknown, ctx: { signal: AbortSignal }) =>
      new Promise<T>((_resolve, reject) => {
        const signal = ctx.signal;
        // The shared never-aborted signal gets no listener: one per hung call would pile up on it.
        if (signal === neverAbortedSignal) return;
        if (signal.aborted) reject(signal.reason as Error);
        else signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      }),
  );
}
