import { z } from 'zod';
import { subscribeAbort, unsubscribeAbort, type AbortSubscriber } from './abort-fanout.js';
import { bulwarkChannel } from './channel.js';
import { systemClock, type Clock } from './clock.js';
import { DeadlineQueue, type DeadlineEntry } from './deadline-queue.js';
import { Emitter } from './emitter.js';
import { TimeoutError } from './errors.js';
import { clockSchema, durationMsSchema, nameSchema, parseOptions } from './options.js';
import {
  BasePolicy,
  isPromiseLike,
  neverAbortedSignal,
  policyRun,
  type ExecuteContext,
  type PolicyFn,
  type PolicyNext,
} from './policy.js';

/**
 * - `cooperative`: at the deadline, abort `ctx.signal` and wait for the function to settle, then reject with
 *   `TimeoutError`. Nothing keeps running behind the caller's back, if the function honours its signal.
 * - `aggressive`: at the deadline, abort `ctx.signal` and reject at once; the function's late result is dropped.
 */
export type TimeoutStrategy = 'cooperative' | 'aggressive';

/** Options for {@link timeout}. */
export interface TimeoutOptions {
  /** Default `'cooperative'`. */
  strategy?: TimeoutStrategy;
  /** Time source; default {@link systemClock}. */
  clock?: Clock;
  /** A name for events and telemetry labels. */
  name?: string;
}

/** Sent to `onTimeout` listeners and on the `bulwark:core:timeout` channel. */
export interface TimeoutEvent {
  readonly name: string | undefined;
  readonly timeoutMs: number;
  readonly strategy: TimeoutStrategy;
}

const timeoutChannel = bulwarkChannel<TimeoutEvent>('core', 'timeout');

const optionsSchema = z
  .object({
    ms: durationMsSchema,
    strategy: z.enum(['cooperative', 'aggressive']).default('cooperative'),
    clock: clockSchema.default(() => systemClock),
    name: nameSchema.optional(),
  })
  .strict();

/** The class behind {@link timeout}. */
export class TimeoutPolicy extends BasePolicy {
  /** The deadline, in milliseconds. */
  readonly timeoutMs: number;
  readonly strategy: TimeoutStrategy;
  override readonly policyKind = 'timeout';
  override readonly name: string | undefined;
  /** @internal */
  readonly clock: Clock;
  /** @internal */
  readonly queue: DeadlineQueue;
  /** @internal */
  readonly timedOut: Emitter<TimeoutEvent>;
  /** Subscribes to deadlines passing; returns an unsubscribe function. */
  readonly onTimeout;

  constructor(ms: number, options: TimeoutOptions = {}) {
    super();
    const o = parseOptions(optionsSchema, { ...options, ms }, 'timeout()');
    this.timeoutMs = o.ms;
    this.strategy = o.strategy;
    this.name = o.name;
    this.clock = o.clock;
    this.queue = new DeadlineQueue(o.clock);
    this.timedOut = new Emitter(timeoutChannel);
    this.onTimeout = this.timedOut.on;
  }

  /** Runs one call through this layer: the run protocol of `@bulwark/core/internal`. @internal */
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | PromiseLike<T> {
    const signal = ctx.signal;
    if (signal !== neverAbortedSignal && signal.aborted) throw signal.reason;
    const call = new TimeoutCall<T>(this, ctx, this.clock.now() + this.timeoutMs);
    let result: T | PromiseLike<T>;
    try {
      result = next(fn, call);
    } catch (error) {
      call.release();
      throw error;
    }
    if (!isPromiseLike<T>(result)) {
      // Synchronous work cannot be interrupted; there is nothing to time.
      call.release();
      return result;
    }
    return call.track(result);
  }
}

/**
 * One call under a timeout: its context (with a signal made only if the function reads it), its deadline-queue
 * entry and its subscription to the caller's signal, all in one object.
 */
class TimeoutCall<T> implements ExecuteContext, DeadlineEntry, AbortSubscriber {
  // This object is the ctx user code receives: internals are #private so they cannot be seen or called.
  readonly attempt: number;
  deadline: number;
  queued: boolean;
  readonly #policy: TimeoutPolicy;
  readonly #parent: AbortSignal;
  #controller: AbortController | undefined;
  #subscribed: boolean;
  /** Set once the call is over for the caller (settled, timed out aggressively, or aborted). */
  #done: boolean;
  /** The abort reason: the TimeoutError at the deadline, or the caller's reason. */
  #reason: unknown;
  #timedOut: boolean;
  #resolve: ((value: T) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;

  constructor(policy: TimeoutPolicy, ctx: ExecuteContext, deadline: number) {
    this.attempt = ctx.attempt;
    this.deadline = deadline;
    this.queued = false;
    this.#policy = policy;
    this.#parent = ctx.signal;
    this.#controller = undefined;
    this.#subscribed = false;
    this.#done = false;
    this.#reason = undefined;
    this.#timedOut = false;
    this.#resolve = undefined;
    this.#reject = undefined;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
      else this.#subscribeParent();
    }
    return this.#controller.signal;
  }

  #subscribeParent(): void {
    if (!this.#subscribed && this.#parent !== neverAbortedSignal) {
      this.#subscribed = true;
      subscribeAbort(this.#parent, this);
    }
  }

  /** Drops the caller-signal subscription; the call holds nothing afterwards. */
  release(): void {
    if (this.#subscribed) {
      this.#subscribed = false;
      unsubscribeAbort(this.#parent, this);
    }
  }

  track(result: PromiseLike<T>): Promise<T> | PromiseLike<T> {
    const policy = this.#policy;
    if (this.#parent === neverAbortedSignal && policy.strategy === 'cooperative') {
      // Nothing can settle this call before the function does: chain on its promise, no promise of our own.
      policy.queue.add(this);
      return result.then(
        (value) => this.#settledValue(value),
        (error: unknown) => this.#settledError(error),
      );
    }
    this.#subscribeParent();
    if (this.#parent.aborted) {
      // The caller aborted while the function was starting.
      this.release();
      result.then(undefined, ignore);
      return Promise.reject(this.#parent.reason as Error);
    }
    policy.queue.add(this);
    return new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      result.then(
        (value) => {
          if (this.#done) return;
          let settled: T;
          try {
            settled = this.#settledValue(value);
          } catch (reason) {
            this.#reject!(reason); // the deadline passed first (cooperative)
            return;
          }
          this.#resolve!(settled);
        },
        (error: unknown) => {
          if (this.#done) return;
          try {
            this.#settledError(error);
          } catch (reason) {
            this.#reject!(reason);
          }
        },
      );
    });
  }

  /** The function resolved: its value, or the TimeoutError if the deadline passed first (cooperative). */
  #settledValue(value: T): T {
    this.#done = true;
    this.release();
    if (this.#timedOut) throw this.#reason;
    this.#policy.queue.remove(this);
    return value;
  }

  /** The function rejected: always throws, its error or the TimeoutError if the deadline passed first. */
  #settledError(error: unknown): never {
    this.#done = true;
    this.release();
    if (!this.#timedOut) {
      this.#policy.queue.remove(this);
      throw error;
    }
    // Keep the function's own failure as the cause when it is something other than our abort reason.
    const reason = this.#reason as TimeoutError;
    if (error !== reason && reason.cause === undefined) {
      Object.defineProperty(reason, 'cause', { value: error, configurable: true, writable: true });
    }
    throw reason;
  }

  /** Deadline passed (called by the queue). */
  expire(): void {
    if (this.#done) return;
    const policy = this.#policy;
    const reason = new TimeoutError(policy.timeoutMs);
    this.#reason = reason;
    this.#timedOut = true;
    if (policy.timedOut.active) {
      policy.timedOut.emit({ name: policy.name, timeoutMs: policy.timeoutMs, strategy: policy.strategy });
    }
    this.#controller?.abort(reason);
    if (policy.strategy === 'aggressive') {
      this.#done = true;
      this.release();
      this.#reject!(reason);
    }
  }

  /** The caller's signal aborted (called by the abort fan-out). */
  onAbort(reason: unknown): void {
    this.#subscribed = false; // the fan-out drops every subscriber of an aborted signal
    if (this.#done) return;
    if (this.#reason === undefined) this.#reason = reason;
    this.#controller?.abort(reason);
    if (this.#reject === undefined) return; // still inside fn's synchronous part: track() rejects
    this.#done = true;
    this.#policy.queue.remove(this);
    this.#reject(reason);
  }
}

function ignore(): void {}

/**
 * Bounds how long a call may take.
 *
 * At the deadline `ctx.signal` is aborted with a {@link TimeoutError} (only if the function read it: no
 * `AbortController` is made otherwise). `cooperative` (the default) then waits for the function to settle and
 * rejects with the `TimeoutError`; `aggressive` rejects at once. The caller's own signal aborting rejects at once
 * with the caller's reason. A call that succeeds never has its signal aborted, so a `fetch` body can still be read
 * after the policy returns. No timer, listener or controller outlives the call.
 *
 * @param ms - the deadline in milliseconds (> 0).
 * @throws {@link BulwarkConfigError} for a bad `ms` or option.
 *
 * @example
 * ```ts
 * const twoSeconds = timeout(2_000);
 * const res = await twoSeconds.execute(({ signal }) => fetch('https://api.example.com/items', { signal }));
 * twoSeconds.onTimeout(({ timeoutMs }) => log.warn({ timeoutMs }, 'upstream timed out'));
 * ```
 */
export function timeout(ms: number, options?: TimeoutOptions): TimeoutPolicy {
  return new TimeoutPolicy(ms, options);
}
