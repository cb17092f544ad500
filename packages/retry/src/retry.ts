import { z } from 'zod';
import {
  isBulwarkError,
  systemClock,
  type AdmissionGate,
  type BulwarkError,
  type Clock,
  type ExecuteContext,
  type OutcomeClass,
  type PolicyFn,
} from '@bulwark/core';
import {
  BasePolicy,
  bulwarkChannel,
  clockSchema,
  Emitter,
  functionSchema,
  isPromiseLike,
  maxTimerMs,
  methodsSchema,
  nameSchema,
  parseOptions,
  policyRun,
  type CallOutcome,
  type PolicyNext,
} from '@bulwark/core/internal';
import { exponential, type Backoff } from './backoff.js';
import { RetryBudgetExhaustedError } from './errors.js';
import { retryAfterHint } from './retry-after.js';
import type { RetryBudget } from './retry-budget.js';
import { sleep } from './sleep.js';

/**
 * Decides whether an outcome is retried: `true` or `'failure'` retries it. `attempt` is the attempt that produced it
 * (1 = the first call). `handleType()`, `handleWhen()` and `handleResult()` from `@bulwark/core` build one.
 */
export type RetryPredicate = (outcome: CallOutcome<unknown>, attempt: number) => boolean | OutcomeClass;

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
  /**
   * Longest pushback honoured: a hint asking for a longer wait ends the retry at once, surfacing that outcome (a
   * retry never sleeps past its own cap). Default 60,000.
   */
  maxDelayMs?: number;
  /**
   * What to do when a circuit breaker refuses an attempt (`BULWARK_CIRCUIT_OPEN`). `false` (default): surface its
   * error at once: an open circuit fails fast. `true`: wait for the circuit to admit
   * calls again, at most `maxDelayMs` (and what is left of `maxElapsedMs`), waking as soon as the breaker changes
   * state (a half-open trial that closes it ends the wait then, not when the refusal's hint runs out); a circuit
   * that will stay shut longer ends the retry at once.
   */
  waitForCircuit?: boolean;
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
  /** Where the delay came from: the backoff, server pushback, or an open circuit (waited for, see `waitForCircuit`). */
  readonly delaySource: 'backoff' | 'retry-after' | 'circuit';
  readonly outcome: CallOutcome<unknown>;
}

/**
 * Why a retry policy stopped retrying a failed outcome. `retry-after`: the pushback asked for a longer wait than
 * `maxDelayMs`; `circuit-open`: a circuit breaker refused the attempt and the retry does not wait for it (or not that
 * long).
 */
export type GiveUpReason =
  'not-retryable' | 'max-attempts' | 'max-elapsed' | 'budget' | 'aborted' | 'retry-after' | 'circuit-open';

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
    maxElapsedMs: z.number().min(0).default(Infinity),
    retryOn: functionSchema<RetryPredicate>().optional(),
    backoff: z
      .union(
        [
          functionSchema<(outcome: CallOutcome<unknown>, retry: number) => number>(),
          methodsSchema<Backoff>(['delay'], 'expected a Backoff'),
        ],
        { message: 'expected a Backoff (constant/linear/exponential) or a function (outcome, retry) => ms' },
      )
      .default(() => defaultBackoff),
    // `true`: read the standard pushback hints; a function reads them itself; `false`: none.
    retryAfter: z
      .union([z.boolean(), functionSchema<(outcome: CallOutcome<unknown>) => number | undefined>()])
      .default(true)
      .transform((r) => (r === true ? retryAfterHint : r === false ? undefined : r)),
    maxDelayMs: z.number().min(0).max(maxTimerMs).default(60_000),
    waitForCircuit: z.boolean().default(false),
    budget: methodsSchema<RetryBudget>(['tryAcquireRetry'], 'expected a RetryBudget from retryBudget()').optional(),
    clock: clockSchema.default(() => systemClock),
    random: functionSchema<() => number>().default(() => Math.random),
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
  readonly #waitForCircuit: boolean;
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
    this.#maxElapsedMs = o.maxElapsedMs;
    this.#retryOn = o.retryOn;
    const { random, backoff } = o;
    this.#delay =
      typeof backoff === 'function'
        ? (outcome, n) => backoff(outcome, n)
        : (_outcome, n, previous) => backoff.delay(n, previous, random);
    this.#hint = o.retryAfter;
    this.#maxDelayMs = o.maxDelayMs;
    this.#waitForCircuit = o.waitForCircuit;
    this.#budget = o.budget;
    this.#clock = o.clock;
  }

  #shouldRetry(outcome: CallOutcome<unknown>, attempt: number, ctx: ExecuteContext): boolean {
    if (this.#retryOn !== undefined) {
      const retry = this.#retryOn(outcome, attempt);
      return retry === true || retry === 'failure';
    }
    return outcome.kind === 'error' && !(ctx.signal.aborted && outcome.error === ctx.signal.reason);
  }

  /** Runs one call through this layer: the run protocol of `@bulwark/core/internal`. @internal */
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
        return result.then(undefined, (error: unknown) =>
          this.#afterFirst<T>({ kind: 'error', error }, fn, ctx, next, startedAt),
        );
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
      const refusal = circuitRefusal(outcome);
      if (refusal !== undefined) {
        const waited = await this.#awaitCircuit(refusal, outcome, attempt, ctx.signal, startedAt);
        if (waited !== undefined) return this.#giveUp(outcome, attempt - 1, waited) as T;
      } else {
        let delayMs: number;
        let source: RetryEvent['delaySource'] = 'backoff';
        const hinted = this.#hint?.(outcome);
        if (hinted !== undefined) {
          if (hinted > this.#maxDelayMs) return this.#giveUp(outcome, attempt - 1, 'retry-after') as T;
          delayMs = hinted;
          source = 'retry-after';
        } else {
          delayMs = Math.max(0, this.#delay(outcome, attempt - 1, previousDelay));
        }
        // Pushback is padded by 1 ms: `sleep` never ends before its delay by this policy's clock, but a deadline on
        // another clock, or one rounded in the subtraction, could still be a hair ahead.
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
        if (waitMs > 0) await this.#sleep(waitMs, ctx.signal, outcome, attempt, undefined);
        else if (ctx.signal.aborted) throw ctx.signal.reason;
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

  /**
   * Waits for the circuit that refused attempt `attempt - 1`, if this policy waits for circuits: until it would admit
   * a call, at most `maxDelayMs` and within `maxElapsedMs`, re-reading its wait at each state change. Returns
   * `undefined` when it is time for the next attempt, or why to give up instead.
   */
  async #awaitCircuit(
    refusal: BulwarkError,
    outcome: CallOutcome<unknown>,
    attempt: number,
    signal: AbortSignal,
    startedAt: number,
  ): Promise<GiveUpReason | undefined> {
    if (!this.#waitForCircuit) return 'circuit-open';
    const gate = refusal.gate;
    const now = this.#clock.now();
    const until = Math.min(now + this.#maxDelayMs, startedAt + this.#maxElapsedMs);
    let waitMs = gate === undefined ? (refusal.retryAfterMs ?? Infinity) : gate.retryAfterMs;
    if (now + waitMs > until) return 'circuit-open';
    if (this.#budget !== undefined && !this.#budget.tryAcquireRetry()) return 'budget';
    if (this.#retried.active)
      this.#retried.emit({ name: this.name, attempt, delayMs: waitMs, delaySource: 'circuit', outcome });
    // A state change ends a wait early; the breaker then says how much longer (often nothing: it closed).
    while (waitMs > 0) {
      // Padded by 1 ms, as pushback is: arriving a hair before an open circuit's deadline would be refused again.
      await this.#sleep(waitMs + 1, signal, outcome, attempt, gate);
      if (gate === undefined) return undefined;
      waitMs = gate.retryAfterMs;
      if (waitMs > 0 && this.#clock.now() + waitMs > until) return 'circuit-open';
    }
    if (signal.aborted) throw signal.reason;
    return undefined;
  }

  /** Sleeps before attempt `attempt`; on the caller's abort, reports the give-up and rethrows the reason. */
  async #sleep(
    ms: number,
    signal: AbortSignal,
    outcome: CallOutcome<unknown>,
    attempt: number,
    gate: AdmissionGate | undefined,
  ): Promise<void> {
    try {
      await sleep(ms, signal, this.#clock, gate);
    } catch (abortReason) {
      if (this.#gaveUp.active)
        this.#gaveUp.emit({ name: this.name, attempts: attempt - 1, reason: 'aborted', outcome });
      throw abortReason;
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

/** The circuit breaker's refusal in an outcome, if it is one. */
function circuitRefusal(outcome: CallOutcome<unknown>): BulwarkError | undefined {
  return outcome.kind === 'error' && isBulwarkError(outcome.error, 'BULWARK_CIRCUIT_OPEN') ? outcome.error : undefined;
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
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
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
