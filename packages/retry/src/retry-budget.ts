import { z } from 'zod';
import { systemClock, type Clock } from '@bulwark/core';
import { clockSchema, parseOptions } from '@bulwark/core/internal';

/**
 * A budget shared by retry policies, so a failing dependency is not hit by a retry storm: once retries exceed
 * their share, failures are surfaced instead of retried. Pass one budget to every `retry()` that calls the same
 * dependency.
 */
export interface RetryBudget {
  /** A first attempt went out. */
  recordCall(): void;
  /** An attempt finished: `failed` is true for an outcome the policy would retry. */
  recordOutcome(failed: boolean): void;
  /** May one more retry go out now? A `true` answer is counted as a retry. */
  tryAcquireRetry(): boolean;
  /** What the budget allows right now: retries available (may be fractional). */
  readonly available: number;
}

/** Finagle-style budget: retries may add `ratio` of the recent calls, plus a floor of `minPerSecond`. */
export interface RatioBudgetOptions {
  /** Share of calls that may be retried, e.g. 0.2 = up to 20% extra load. Default 0.2. */
  ratio?: number;
  /** Retries per second always allowed, so low-traffic callers can still retry. Default 10. */
  minPerSecond?: number;
  /** How long calls and retries count, in ms. Default 10,000. */
  ttlMs?: number;
  clock?: Clock;
}

/** gRPC-style throttling (proposal A6): tokens drop by 1 per failure, rise by `tokenRatio` per success. */
export interface TokenBudgetOptions {
  /** Token capacity; retries stop while tokens ≤ maxTokens / 2. */
  maxTokens: number;
  /** Tokens regained per success, e.g. 0.1. */
  tokenRatio: number;
}

const BUCKETS = 10;

/** Calls and retries counted in `BUCKETS` time buckets spanning `ttlMs`, expiring correctly over idle gaps. */
class RatioBudget implements RetryBudget {
  readonly #calls = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  readonly #bucketMs: number;
  readonly #ratio: number;
  readonly #reserve: number;
  readonly #clock: Clock;
  #epoch: number; // index of the current bucket since the clock's origin
  #callsTotal = 0;
  #retriesTotal = 0;

  constructor(o: Required<RatioBudgetOptions>) {
    this.#bucketMs = o.ttlMs / BUCKETS;
    this.#ratio = o.ratio;
    this.#reserve = (o.minPerSecond * o.ttlMs) / 1000;
    this.#clock = o.clock;
    this.#epoch = Math.floor(o.clock.now() / this.#bucketMs);
  }

  /** Moves to the current bucket, clearing every bucket skipped (at most all of them, however long the gap). */
  #advance(): number {
    const epoch = Math.floor(this.#clock.now() / this.#bucketMs);
    const steps = Math.min(epoch - this.#epoch, BUCKETS);
    for (let i = 1; i <= steps; i++) {
      const slot = (this.#epoch + i) % BUCKETS;
      this.#callsTotal -= this.#calls[slot]!;
      this.#retriesTotal -= this.#retries[slot]!;
      this.#calls[slot] = 0;
      this.#retries[slot] = 0;
    }
    if (epoch > this.#epoch) this.#epoch = epoch;
    return this.#epoch % BUCKETS;
  }

  get available(): number {
    this.#advance();
    return this.#reserve + this.#ratio * this.#callsTotal - this.#retriesTotal;
  }

  recordCall(): void {
    this.#calls[this.#advance()]!++;
    this.#callsTotal++;
  }

  recordOutcome(): void {}

  tryAcquireRetry(): boolean {
    if (this.available < 1) return false;
    this.#retries[this.#epoch % BUCKETS]!++;
    this.#retriesTotal++;
    return true;
  }
}

class TokenBudget implements RetryBudget {
  #tokens: number;
  constructor(readonly options: TokenBudgetOptions) {
    this.#tokens = options.maxTokens;
  }
  get available(): number {
    return Math.max(0, this.#tokens - this.options.maxTokens / 2);
  }
  recordCall(): void {}
  recordOutcome(failed: boolean): void {
    const { maxTokens, tokenRatio } = this.options;
    this.#tokens = failed ? Math.max(0, this.#tokens - 1) : Math.min(maxTokens, this.#tokens + tokenRatio);
  }
  tryAcquireRetry(): boolean {
    return this.#tokens > this.options.maxTokens / 2;
  }
}

const ratioSchema = z
  .object({
    ratio: z.number().min(0).max(10).default(0.2),
    minPerSecond: z.number().min(0).default(10),
    ttlMs: z.number().min(10).max(3_600_000).default(10_000),
    clock: clockSchema.default(() => systemClock),
  })
  .strict();
const tokenSchema = z
  .object({
    maxTokens: z.number().positive().max(1_000_000),
    tokenRatio: z.number().positive().max(1_000_000),
  })
  .strict();

/**
 * Creates a {@link RetryBudget}. With `{ ratio, minPerSecond, ttlMs }` (the default, Finagle's: 20% + 10/s over
 * 10 s) retries may add that share of recent calls; with `{ maxTokens, tokenRatio }` it throttles as gRPC does.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * const budget = retryBudget({ ratio: 0.1, minPerSecond: 5 });
 * const users = retry({ maxAttempts: 4, budget });
 * const orders = retry({ maxAttempts: 4, budget }); // same dependency, same budget
 * ```
 */
export function retryBudget(options: RatioBudgetOptions | TokenBudgetOptions = {}): RetryBudget {
  if ('maxTokens' in options || 'tokenRatio' in options) {
    return new TokenBudget(parseOptions(tokenSchema, options, 'retryBudget()'));
  }
  return new RatioBudget(parseOptions(ratioSchema, options, 'retryBudget()'));
}
