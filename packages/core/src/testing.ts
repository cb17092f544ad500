import type { Clock } from './clock.js';

interface VirtualTimer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/** Lets pending promise callbacks (and whatever they chain) run. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock whose time moves only when told. Timers fire in due order (ties in the order they were set), each with
 * `now()` equal to its due time, and promise callbacks run between timers, so code awaiting a timer continues
 * before the next one fires.
 *
 * @example
 * ```ts
 * import { VirtualClock } from '@bulwark/core/testing';
 * const clock = new VirtualClock();
 * const p = timeout(100, { clock }).execute(() => new Promise(() => {}));
 * await clock.advance(100);
 * await expect(p).rejects.toMatchObject({ code: 'BULWARK_TIMEOUT' });
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #nextId = 1;
  /** Sorted by (due, id). */
  #timers: VirtualTimer[] = [];

  /** @param start - the initial reading of `now()`. */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): number {
    const timer: VirtualTimer = { id: this.#nextId++, due: this.#now + Math.max(0, ms), fn };
    // Insert after every timer due at or before this one: equal due times fire in insertion order.
    let lo = 0;
    let hi = this.#timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#timers[mid]!.due <= timer.due) lo = mid + 1;
      else hi = mid;
    }
    this.#timers.splice(lo, 0, timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    const i = this.#timers.findIndex((t) => t.id === handle);
    if (i !== -1) this.#timers.splice(i, 1);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, in order. Resolves once those timers
   * and the promise callbacks they caused have run.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advance(ms) needs ms >= 0, got ${ms}`);
    const target = this.#now + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.due > target) break;
      this.#timers.shift();
      this.#now = next.due;
      next.fn();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  /**
   * Fires timers until none is left (at most `limit`, to stop timers that re-arm forever). Pending promise callbacks
   * run first, so a timer that code is about to set (after an await) is not missed.
   */
  async runAll(limit = 10_000): Promise<void> {
    await flushMicrotasks();
    for (let fired = 0; this.#timers.length > 0; fired++) {
      if (fired >= limit) throw new Error(`runAll(): still ${this.#timers.length} timers after ${limit} fired`);
      await this.advance(this.#timers[0]!.due - this.#now);
    }
  }
}
