import { performance } from 'node:perf_hooks';

/**
 * Where time comes from. Every time-dependent Bulwark primitive takes a `clock` option so tests can run on a
 * `VirtualClock` (from `@bulwark/core/testing`) without real waiting.
 */
export interface Clock {
  /** Monotonic milliseconds. Only differences between two readings are meaningful. */
  now(): number;
  /** Schedules `fn` after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer made by this clock's `setTimeout`. Unknown handles are ignored. */
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock: `performance.now()` (monotonic, immune to wall-clock jumps) and Node's timers.
 *
 * @example
 * ```ts
 * const started = systemClock.now();
 * await work();
 * console.log(`took ${systemClock.now() - started} ms`);
 * ```
 */
export const systemClock: Clock = {
  // Bound once: in Node 20 the global `performance` is a lazy accessor, and reading it on every call made a rate
  // limiter's decision twice as slow.
  now: performance.now.bind(performance),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Lets a pending timer stop keeping the process alive. Node's timer handles have `unref`; other clocks' handles
 * (a `VirtualClock`'s numbers) are left alone.
 */
export function unrefTimer(handle: unknown): void {
  if (typeof handle === 'object' && handle !== null) (handle as { unref?: () => unknown }).unref?.();
}
