import { z } from 'zod';
import {
  isBulwarkError,
  isTimeoutError,
  systemClock,
  type Clock,
  type ExecuteContext,
  type PolicyFn,
} from '@bulwark/core';
import {
  BasePolicy,
  bulwarkChannel,
  clockSchema,
  DeadlineQueue,
  durationMsSchema,
  Emitter,
  functionSchema,
  isPromiseLike,
  nameSchema,
  neverAbortedSignal,
  parseOptions,
  policyRun,
  subscribeAbort,
  unsubscribeAbort,
  type AbortSubscriber,
  type CallOutcome,
  type DeadlineEntry,
  type PolicyNext,
} from '@bulwark/core/internal';
import { BulkheadRejectedError, type BulkheadRejection } from './errors.js';
import {
  aimdLimit,
  fixedLimit,
  gradientLimit,
  type AimdOptions,
  type ConcurrencyLimit,
  type GradientOptions,
} from './limits.js';

/** Sent when a call is turned away, to `onRejected` and on `bulwark:bulkhead:rejected`. */
export interface BulkheadRejectedEvent {
  readonly name: string | undefined;
  readonly reason: BulkheadRejection;
  readonly active: number;
  readonly queued: number;
}

/** Sent when an adaptive limit changes, to `onLimitChange` and on `bulwark:bulkhead:limit`. */
export interface LimitChangeEvent {
  readonly name: string | undefined;
  readonly from: number;
  readonly to: number;
}

/** Calls running and waiting, on `bulwark:bulkhead:occupancy` after each change (only while someone subscribes). */
export interface BulkheadOccupancyEvent {
  readonly name: string | undefined;
  readonly active: number;
  readonly queued: number;
}

/** A slot taken with `tryAcquire()`; release it exactly once (later calls are ignored). */
export interface BulkheadPermit {
  /** Gives the slot back. `dropped`: the work signalled overload (feeds an adaptive limit). */
  release(dropped?: boolean): void;
}

const rejectedChannel = bulwarkChannel<BulkheadRejectedEvent>('bulkhead', 'rejected');
const limitChannel = bulwarkChannel<LimitChangeEvent>('bulkhead', 'limit');
const occupancyChannel = bulwarkChannel<BulkheadOccupancyEvent>('bulkhead', 'occupancy');

/** A queued call. */
class Waiter implements DeadlineEntry, AbortSubscriber {
  deadline = 0;
  queued = false; // in the timeout queue
  waiting = true; // in the FIFO
  constructor(
    readonly bulkhead: BulkheadPolicy,
    readonly signal: AbortSignal,
    readonly resolve: () => void,
    readonly reject: (error: unknown) => void,
  ) {}
  expire(): void {
    this.bulkhead.leave(this, new BulkheadRejectedError('queue-timeout', this.bulkhead.limit), 'queue-timeout');
  }
  onAbort(reason: unknown): void {
    this.bulkhead.leave(this, reason, undefined);
  }
}

/** Options shared by {@link bulkhead} and {@link adaptiveLimit}. */
export interface QueueOptions {
  /** Calls that may wait for a slot. Default 0: reject at once when full. */
  maxQueue?: number;
  /** Longest wait for a slot; then `BulkheadRejectedError` (`queue-timeout`). Default: wait until a slot frees. */
  queueTimeoutMs?: number;
  /**
   * Which outcomes signal overload to an adaptive limit. Default: timeouts, bulkhead and rate-limit rejections.
   */
  isDrop?: (outcome: CallOutcome<unknown>) => boolean;
  clock?: Clock;
  name?: string;
}

/** Options for {@link bulkhead}. */
export interface BulkheadOptions extends QueueOptions {
  /** Calls that may run at once. */
  maxConcurrent: number;
}

function defaultIsDrop(outcome: CallOutcome<unknown>): boolean {
  if (outcome.kind === 'value') return false;
  const e = outcome.error;
  return isTimeoutError(e) || isBulwarkError(e, 'BULWARK_BULKHEAD_FULL') || isBulwarkError(e, 'BULWARK_RATE_LIMITED');
}

const queueShape = {
  maxQueue: z.number().int().min(0).max(10_000_000).default(0),
  queueTimeoutMs: durationMsSchema.optional(),
  isDrop: functionSchema<(outcome: CallOutcome<unknown>) => boolean>().default(() => defaultIsDrop),
  clock: clockSchema.default(() => systemClock),
  name: nameSchema.optional(),
};

/** The class behind {@link bulkhead} and {@link adaptiveLimit}. */
export class BulkheadPolicy extends BasePolicy {
  override readonly policyKind = 'bulkhead';
  override readonly name: string | undefined;
  readonly maxQueue: number;
  readonly #limit: ConcurrencyLimit;
  readonly #clock: Clock;
  readonly #isDrop: (outcome: CallOutcome<unknown>) => boolean;
  readonly #timeouts: DeadlineQueue | undefined;
  readonly #queueTimeoutMs: number;
  #fifo: Waiter[] = [];
  #head = 0;
  #waiting = 0;
  #active = 0;
  readonly #rejected = new Emitter<BulkheadRejectedEvent>(rejectedChannel);
  readonly #limitChanged = new Emitter<LimitChangeEvent>(limitChannel);
  /** When a call is turned away; returns an unsubscribe function. */
  readonly onRejected = this.#rejected.on;
  /** When an adaptive limit changes; returns an unsubscribe function. */
  readonly onLimitChange = this.#limitChanged.on;

  constructor(limit: ConcurrencyLimit, options: z.output<z.ZodObject<typeof queueShape>>) {
    super();
    this.#limit = limit;
    this.name = options.name;
    this.maxQueue = options.maxQueue;
    this.#clock = options.clock;
    this.#isDrop = options.isDrop;
    this.#queueTimeoutMs = options.queueTimeoutMs ?? 0;
    this.#timeouts = options.queueTimeoutMs === undefined ? undefined : new DeadlineQueue(options.clock);
  }

  /** Calls running now. */
  get active(): number {
    return this.#active;
  }
  /** Calls waiting for a slot. */
  get queued(): number {
    return this.#waiting;
  }
  /** The concurrency limit now (changes over time for an adaptive limit). */
  get limit(): number {
    return this.#limit.current;
  }

  /** Runs one call through this layer: the run protocol of `@bulwark/core/internal`. @internal */
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | PromiseLike<T> {
    const signal = ctx.signal;
    if (signal !== neverAbortedSignal && signal.aborted) throw signal.reason;
    // Strict FIFO: a free slot goes to a new caller only when nobody is waiting. (#release hands freed slots to
    // waiters directly, so "someone waits" already implies "no slot free"; the check states the rule outright.)
    if (this.#active < this.#limit.current && this.#waiting === 0) {
      this.#active++;
      if (occupancyChannel.hasSubscribers) this.#publishOccupancy();
      return this.#run(fn, ctx, next);
    }
    if (this.#waiting >= this.maxQueue) throw this.#reject('full');
    return new Promise<void>((resolve, reject) => this.#enqueue(new Waiter(this, signal, resolve, reject))).then(() =>
      this.#run(fn, ctx, next),
    );
  }

  /**
   * Takes a slot now if one is free and nobody waits, for work that cannot be wrapped in `execute` (an HTTP
   * request). Returns `undefined` when full (and reports the rejection).
   *
   * @example
   * ```ts
   * const permit = pool.tryAcquire();
   * if (!permit) return res.status(503).end();
   * res.on('close', () => permit.release(res.statusCode === 503));
   * ```
   */
  tryAcquire(): BulkheadPermit | undefined {
    if (this.#active >= this.#limit.current || this.#waiting > 0) {
      this.#reject('full');
      return undefined;
    }
    this.#active++;
    if (occupancyChannel.hasSubscribers) this.#publishOccupancy();
    const started = this.#limit.adaptive ? this.#clock.now() : 0;
    const inflight = this.#active;
    let released = false;
    return {
      release: (dropped = false) => {
        if (released) return;
        released = true;
        this.#done(started, inflight, dropped);
      },
    };
  }

  #run<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | PromiseLike<T> {
    // A queued call can be granted its slot after its signal aborted; the getter is skipped for the shared
    // never-aborted signal, as on every hot path.
    if (ctx.signal !== neverAbortedSignal && ctx.signal.aborted) {
      this.#done(0, 0, false);
      throw ctx.signal.reason;
    }
    if (!this.#limit.adaptive) {
      let result: T | PromiseLike<T>;
      try {
        result = next(fn, ctx);
      } catch (error) {
        this.#release();
        throw error;
      }
      if (!isPromiseLike<T>(result)) {
        this.#release();
        return result;
      }
      // Release on a side reaction and hand back the function's own promise: nothing to rethrow, no closure.
      result.then(this.#releaseAfter, this.#releaseAfter);
      return result;
    }
    const started = this.#clock.now();
    const inflight = this.#active;
    const finish = (outcome: CallOutcome<unknown>) => this.#done(started, inflight, this.#isDrop(outcome));
    let result: T | PromiseLike<T>;
    try {
      result = next(fn, ctx);
    } catch (error) {
      finish({ kind: 'error', error });
      throw error;
    }
    if (!isPromiseLike<T>(result)) {
      finish({ kind: 'value', value: result });
      return result;
    }
    result.then(
      (value) => finish({ kind: 'value', value }),
      (error: unknown) => finish({ kind: 'error', error }),
    );
    return result;
  }

  /** The fixed-limit path's shared settle callback: no closure per call. */
  readonly #releaseAfter = (): void => {
    this.#release();
  };

  /** A call finished: feed the limit, free the slot, and hand free slots to waiters in order. */
  #done(started: number, inflight: number, dropped: boolean): void {
    if (this.#limit.adaptive) {
      const before = this.#limit.current;
      this.#limit.sample(this.#clock.now() - started, inflight, dropped);
      const after = this.#limit.current;
      if (after !== before && this.#limitChanged.active)
        this.#limitChanged.emit({ name: this.name, from: before, to: after });
    }
    this.#release();
  }

  #release(): void {
    this.#active--;
    while (this.#waiting > 0 && this.#active < this.#limit.current) {
      const w = this.#fifo[this.#head]!;
      this.#fifo[this.#head++] = undefined as never; // let it be collected
      if (!w.waiting) continue;
      this.#dequeue(w);
      this.#active++; // the slot is the waiter's now: nobody can barge in before it runs
      w.resolve();
    }
    if (this.#waiting === 0 && this.#head > 0) {
      this.#fifo = [];
      this.#head = 0;
    }
    if (occupancyChannel.hasSubscribers) this.#publishOccupancy();
  }

  #publishOccupancy(): void {
    occupancyChannel.publish({ name: this.name, active: this.#active, queued: this.#waiting });
  }

  #enqueue(w: Waiter): void {
    this.#fifo.push(w);
    this.#waiting++;
    if (this.#timeouts !== undefined) {
      w.deadline = this.#clock.now() + this.#queueTimeoutMs;
      this.#timeouts.add(w);
    }
    if (w.signal !== neverAbortedSignal) subscribeAbort(w.signal, w);
    if (occupancyChannel.hasSubscribers) this.#publishOccupancy();
  }

  /** Takes a waiter out of the FIFO's count and its timers (its array slot is skipped later). */
  #dequeue(w: Waiter): void {
    w.waiting = false;
    this.#waiting--;
    this.#timeouts?.remove(w);
    if (w.signal !== neverAbortedSignal) unsubscribeAbort(w.signal, w);
  }

  /** A waiter gives up (its signal aborted, or its queue time ran out). @internal */
  leave(w: Waiter, error: unknown, rejection: BulkheadRejection | undefined): void {
    if (!w.waiting) return;
    this.#dequeue(w);
    if (occupancyChannel.hasSubscribers) this.#publishOccupancy();
    if (rejection !== undefined) this.#report(rejection);
    w.reject(error);
  }

  #reject(reason: BulkheadRejection): BulkheadRejectedError {
    this.#report(reason);
    return new BulkheadRejectedError(reason, this.#limit.current);
  }

  #report(reason: BulkheadRejection): void {
    if (this.#rejected.active) {
      this.#rejected.emit({ name: this.name, reason, active: this.#active, queued: this.#waiting });
    }
  }
}

/**
 * Limits how many calls run at once, with an optional FIFO queue. Strictly first come, first served: a slot that
 * frees goes to the longest waiter, never to a caller who just arrived. A queued call whose signal aborts leaves
 * the queue at once. Rejections are {@link BulkheadRejectedError}, which circuit breakers never count as failures.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * const db = bulkhead({ maxConcurrent: 10, maxQueue: 100, queueTimeoutMs: 2_000 });
 * const rows = await db.execute(() => pool.query(sql));
 * ```
 */
export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  const o = parseOptions(
    z.object({ maxConcurrent: z.number().int().min(1).max(10_000_000), ...queueShape }).strict(),
    options,
    'bulkhead()',
  );
  return new BulkheadPolicy(fixedLimit(o.maxConcurrent), o);
}

/** Options for {@link adaptiveLimit}. */
export type AdaptiveLimitOptions = QueueOptions &
  (({ algorithm: 'aimd' } & AimdOptions) | ({ algorithm?: 'gradient' } & GradientOptions));

/**
 * A bulkhead whose limit adapts to what calls experience, after Netflix's concurrency-limits: `'gradient'`
 * (default; latency-based, Gradient2) or `'aimd'` (loss-based: +1 while busy and healthy, ×0.9 on a drop).
 * Use it on outbound calls, or inbound as load shedding (`loadShedding()` from the adapter subpaths).
 *
 * @example
 * ```ts
 * const inbound = adaptiveLimit({ algorithm: 'gradient', minLimit: 10, maxLimit: 500, initialLimit: 50 });
 * inbound.onLimitChange(({ from, to }) => log.info({ from, to }, 'concurrency limit'));
 * ```
 */
export function adaptiveLimit(options: AdaptiveLimitOptions = {}): BulkheadPolicy {
  const { maxQueue, queueTimeoutMs, isDrop, clock, name, algorithm, ...limitOptions } = options;
  const o = parseOptions(
    z.object(queueShape).strict(),
    { maxQueue, queueTimeoutMs, isDrop, clock, name },
    'adaptiveLimit()',
  );
  if (algorithm !== undefined && algorithm !== 'aimd' && algorithm !== 'gradient') {
    parseOptions(z.object({ algorithm: z.enum(['aimd', 'gradient']) }), { algorithm }, 'adaptiveLimit()');
  }
  const limit = algorithm === 'aimd' ? aimdLimit(limitOptions) : gradientLimit(limitOptions);
  return new BulkheadPolicy(limit, o);
}
