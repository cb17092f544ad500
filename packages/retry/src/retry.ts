import { z } from 'zod';
import {
  BasePolicy,
  bulwarkChannel,
  clockSchema,
  Emitter,
  isPromiseLike,
  nameSchema,
  parseOptions,
  policyRun,
  systemClock,
  type CallOutcome,
  type Clock,
  type ExecuteContext,
  type PolicyFn,
  type PolicyNext,
} from '@bulwark/core';
import { exponential, type Backoff } from './backoff.js';
import { RetryBudgetExhaustedError } from './errors.js';
import { retryAfterHint } from './retry-after.js';
import type { RetryBudget } from './retry-budget.js';
import { sleep } from './sleep.js';

/** Decides whether an outcome is retried. `attempt` is the attempt that produced it (1 = the first call). */
export type RetryPredicate = (outcome: CallOutcome<unknown>, attempt: number) => boolean;

/** Options for {@link retry}. */
export interface RetryOptions {
  /** Attempts in all, the first call included. Default 3. */
  maxAttempts?: number;
  /** No retry starts later than this many ms after the first attempt began. Default: no limit. */
  maxElapsedMs?: number;
  /** Which outcomes to retry. Default: every error except the caller's own abort; never a value. */
  retryOn?: RetryPredicate;
  /** Delay before each retry: a {@link Backoff} or `(outcome, retry) => ms`. Default `exponential()` with full jitter. */
  backoff?: Backoff | ((outcome: CallOutcome<unknown>, retry: number) => number);
  /**
   * Honour server pushback (`retryAfterMs` on Bulwark errors, `Retry-After` on responses) instead of the backoff.
   * Default true; or a function that extracts the hint in ms from an outcome.
   */
  retryAfter?: boolean | ((outcome: CallOutcome<unknown>) => number | undefined);
  /** Longest pushback honoured; longer hints are capped to it. Default 60,000. */
  maxDelayMs?: number;
  /** A budget shared with other retry policies for the same dependency. */
  budget?: RetryBudget;
  clock?: Clock;
  /** Source of randomness for jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  name?: string;
}

/** Sent before each retry to `onRetry` listeners and on `bulwark:retry:retry`. */
export interface RetryEvent {
  readonly name: string | undefined;
  /** The attempt about to run (2 for the first retry). */
  readonly attempt: number;
  readonly delayMs: number;
  /** Where the delay came from. */
  readonly delaySource: 'backoff' | 'retry-after';
  readonly outcome: CallOutcome<unknown>;
}

/** Why a retry policy stopped retrying a failed outcome. */
export type GiveUpReason = 'not-retryable' | 'max-attempts' | 'max-elapsed' | 'budget' | 'aborted';

/** Sent when the policy surfaces a failed outcome, on `onGiveUp` and `bulwark:retry:give-up`. */
export interface GiveUpEvent {
  readonly name: string | undefined;
  readonly attempts: number;
  readonly reason: GiveUpReason;
  readonly outcome: CallOutcome<unknown>;
}

const retryChannel = bulwarkChannel<RetryEvent>('retry', 'retry');
const giveUpChannel = bulwarkChannel<GiveUpEvent>('retry', 'give-up');

const optionsSchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(1_000).default(3),
    maxElapsedMs: z.number().min(0).optional(),
    retryOn: z.function().optional(),
    backoff: z
      .union([z.function(), z.custom<Backoff>((b) => typeof (b as Backoff | null)?.delay === 'function')], {
        message: 'expected a Backoff (constant/linear/exponential) or a function (outcome, retry) => ms',
      })
      .optional(),
    retryAfter: z.union([z.boolean(), z.function()]).default(true),
    maxDelayMs: z.number().min(0).max(2_147_483_647).default(60_000),
    budget: z
      .custom<RetryBudget>((b) => typeof (b as RetryBudget | null)?.tryAcquireRetry === 'function', {
        message: 'expected a RetryBudget from retryBudget()',
      })
      .optional(),
    clock: clockSchema.default(systemClock),
    random: z.function().optional(),
    name: nameSchema.optional(),
  })
  .strict();

const defaultBackoff = exponential();

/** The class behind {@link retry}. */
export class RetryPolicy extends BasePolicy {
  override readonly policyKind = 'retry';
  override readonly name: string | undefined;
  readonly maxAttempts: number;
  readonly #maxElapsedMs: number;
  readonly #retryOn: RetryPredicate | undefined;
  readonly #delay: (outcome: CallOutcome<unknown>, retry: number, previousMs: number) => number;
  readonly #hint: ((outcome: CallOutcome<unknown>) => number | undefined) | undefined;
  readonly #maxDelayMs: number;
  readonly #budget: RetryBudget | undefined;
  readonly #clock: Clock;
  readonly #retried = new Emitter<RetryEvent>(retryChannel);
  readonly #gaveUp = new Emitter<GiveUpEvent>(giveUpChannel);
  /** Before each retry; returns an unsubscribe function. */
  readonly onRetry = this.#retried.on;
  /** When a failed outcome is surfaced; returns an unsubscribe function. */
  readonly onGiveUp = this.#gaveUp.on;

  constructor(options: RetryOptions = {}) {
    super();
    const o = parseOptions(optionsSchema, options, 'retry()');
    this.name = o.name;
    this.maxAttempts = o.maxAttempts;
    this.#maxElapsedMs = o.maxElapsedMs ?? Infinity;
    this.#retryOn = options.retryOn;
    const random = options.random ?? Math.random;
    const backoff = options.backoff ?? defaultBackoff;
    this.#delay =
      typeof backoff === 'function'
        ? (outcome, n) => backoff(outcome, n)
        : (_outcome, n, previous) => backoff.delay(n, previous, random);
    this.#hint = options.retryAfter === false ? undefined : typeof options.retryAfter === 'function' ? options.retryAfter : retryAfterHint;
    this.#maxDelayMs = o.maxDelayMs;
    this.#budget = options.budget;
    this.#clock = o.clock;
  }

  #shouldRetry(outcome: CallOutcome<unknown>, attempt: number, ctx: ExecuteContext): boolean {
    if (this.#retryOn !== undefined) return this.#retryOn(outcome, attempt);
    return outcome.kind === 'error' && !(ctx.signal.aborted && outcome.error === ctx.signal.reason);
  }

  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | PromiseLike<T> {
    const budget = this.#budget;
    budget?.recordCall();
    // Read the clock only when a time limit needs it: the first attempt's start.
    const startedAt = this.#maxElapsedMs === Infinity ? 0 : this.#clock.now();
    const first = ctx.attempt === 1 ? ctx : { signal: ctx.signal, attempt: 1 };
    let result: T | PromiseLike<T>;
    try {
      result = next(fn, first);
    } catch (error) {
      return this.#afterFirst<T>({ kind: 'error', error }, fn, ctx, next, startedAt);
    }
    if (isPromiseLike<T>(result)) {
      // The common case: a first attempt that succeeds costs one `then` and nothing else.
      if (this.#retryOn === undefined && budget === undefined) {
        return result.then(undefined, (error: unknown) => this.#afterFirst<T>({ kind: 'error', error }, fn, ctx, next, startedAt));
      }
      return result.then(
        (value) => this.#afterFirst<T>({ kind: 'value', value }, fn, ctx, next, startedAt),
        (error: unknown) => this.#afterFirst<T>({ kind: 'error', error }, fn, ctx, next, startedAt),
      );
    }
    if (this.#retryOn === undefined && budget === undefined) return result;
    return this.#afterFirst<T>({ kind: 'value', value: result }, fn, ctx, next, startedAt);
  }

  /** The first attempt's outcome: surface it, or go into the retry loop. */
  #afterFirst<T>(
    outcome: CallOutcome<unknown>,
    fn: PolicyFn<T>,
    ctx: ExecuteContext,
    next: PolicyNext,
    startedAt: number,
  ): T | Promise<T> {
    const retryIt = this.#shouldRetry(outcome, 1, ctx);
    this.#budget?.recordOutcome(retryIt);
    if (!retryIt) return settle(outcome) as T;
    return this.#retryLoop<T>(outcome, fn, ctx, next, startedAt);
  }

  async #retryLoop<T>(
    firstOutcome: CallOutcome<unknown>,
    fn: PolicyFn<T>,
    ctx: ExecuteContext,
    next: PolicyNext,
    startedAt: number,
  ): Promise<T> {
    let outcome = firstOutcome;
    let previousDelay = 0;
    for (let attempt = 2; ; attempt++) {
      // `outcome`, from attempt - 1, is one to retry. May it be, and after how long?
      if (attempt > this.maxAttempts) return this.#giveUp(outcome, attempt - 1, 'max-attempts') as T;
      let delayMs: number;
      let source: RetryEvent['delaySource'] = 'backoff';
      const hinted = this.#hint?.(outcome);
      if (hinted !== undefined) {
        delayMs = Math.min(hinted, this.#maxDelayMs);
        source = 'retry-after';
      } else {
        delayMs = Math.max(0, this.#delay(outcome, attempt - 1, previousDelay));
      }
      // Pushback is padded by 1 ms: `sleep` never ends before its delay by this policy's clock, but a breaker on
      // another clock, or a deadline rounded in the subtraction, could still be a hair ahead, and arriving before an
      // open circuit's deadline would only be refused again.
      const waitMs = source === 'retry-after' && delayMs > 0 ? delayMs + 1 : delayMs;
      if (this.#maxElapsedMs !== Infinity && this.#clock.now() + waitMs - startedAt > this.#maxElapsedMs) {
        return this.#giveUp(outcome, attempt - 1, 'max-elapsed') as T;
      }
      if (this.#budget !== undefined && !this.#budget.tryAcquireRetry()) {
        return this.#giveUp(outcome, attempt - 1, 'budget') as T;
      }

      if (this.#retried.active) {
        this.#retried.emit({ name: this.name, attempt, delayMs, delaySource: source, outcome });
      }
      previousDelay = delayMs;
      if (waitMs > 0) {
        try {
          await sleep(waitMs, ctx.signal, this.#clock);
        } catch (abortReason) {
          if (this.#gaveUp.active) this.#gaveUp.emit({ name: this.name, attempts: attempt - 1, reason: 'aborted', outcome });
          throw abortReason;
        }
      } else if (ctx.signal.aborted) {
        throw ctx.signal.reason;
      }

      try {
        outcome = { kind: 'value', value: await next(fn, { signal: ctx.signal, attempt }) };
      } catch (error) {
        outcome = { kind: 'error', error };
      }
      const retryIt = this.#shouldRetry(outcome, attempt, ctx);
      this.#budget?.recordOutcome(retryIt);
      if (!retryIt) return this.#surface(outcome, attempt, 'not-retryable') as T;
    }
  }

  #giveUp(outcome: CallOutcome<unknown>, attempts: number, reason: GiveUpReason): unknown {
    if (reason === 'budget' && outcome.kind === 'error') {
      this.#emitGiveUp(outcome, attempts, reason);
      throw new RetryBudgetExhaustedError(outcome.error, attempts);
    }
    return this.#surface(outcome, attempts, reason);
  }

  #surface(outcome: CallOutcome<unknown>, attempts: number, reason: GiveUpReason): unknown {
    if (outcome.kind === 'error' || reason !== 'not-retryable') this.#emitGiveUp(outcome, attempts, reason);
    return settle(outcome);
  }

  #emitGiveUp(outcome: CallOutcome<unknown>, attempts: number, reason: GiveUpReason): void {
    if (this.#gaveUp.active) this.#gaveUp.emit({ name: this.name, attempts, reason, outcome });
  }
}

/** Returns a value outcome's value, throws an error outcome's error. */
function settle(outcome: CallOutcome<unknown>): unknown {
  if (outcome.kind === 'error') throw outcome.error;
  return outcome.value;
}

/**
 * Retries failed calls with backoff. Each attempt runs everything inside this policy again (compose a `timeout`
 * inside it for a per-attempt deadline) and sees `ctx.attempt`. The caller's abort stops everything at once,
 * including a backoff sleep in progress, and the function is never called again afterwards.
 *
 * Delays: server pushback first (a Bulwark error's `retryAfterMs`, or `Retry-After` in seconds or HTTP-date on a
 * `fetch` Response value or an error's `response`), capped by `maxDelayMs`; otherwise the backoff. When a shared
 * `budget` has no retries left, an error is surfaced as {@link RetryBudgetExhaustedError} with the error as `cause`
 * (a value outcome, e.g. a 503 response, is returned as is).
 *
 * @throws {@link BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * const policy = retry({
 *   maxAttempts: 4,
 *   backoff: exponential({ baseMs: 100, maxMs: 2_000, jitter: 'full' }),
 *   retryOn: (o) => o.kind === 'error' || [429, 502, 503, 504].includes((o.value as Response).status),
 *   budget: retryBudget(),
 * });
 * const res = await compose(policy, timeout(1_000)).execute(({ signal }) => fetch(url, { signal }));
 * ```
 */
export function retry(options?: RetryOptions): RetryPolicy {
  return new RetryPolicy(options);
}
