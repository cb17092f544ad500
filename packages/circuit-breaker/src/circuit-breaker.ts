import {
  isBulwarkError,
  type Clock,
  type OutcomeClass,
  type EventSource,
  type ExecuteContext,
  type PolicyFn,
} from '@bulwark/core';
import {
  BasePolicy,
  bulwarkChannel,
  callFunction,
  Emitter,
  isPromiseLike,
  neverAbortedSignal,
  parseOptions,
  policyRun,
  type CallOutcome,
  type PolicyNext,
} from '@bulwark/core/internal';
import {
  circuitBreakerOptionsSchema,
  type CircuitBreakerOptions,
  type CircuitBreakerSnapshot,
  type FailureClassifier,
} from './circuit-breaker-options.js';
import { StatsRecorder, type CircuitBreakerStats } from './circuit-breaker-stats.js';
import { BrokenCircuitError } from './errors.js';
import type { Thresholds, Window } from './windows.js';

/** The breaker's state. `isolated`: held open by hand; `disabled`: passes everything, records nothing. */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated' | 'disabled';

/** Sent on every state change, to `onStateChange` and on `bulwark:circuit-breaker:state-change`. */
export interface StateChangeEvent {
  readonly name: string | undefined;
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** For `open`: how long it stays open. */
  readonly openMs?: number;
}

/** A hold from `isolate()` or `disable()`: the breaker returns to deciding once every hold is disposed. */
export interface CircuitHold {
  /** Releases this hold (once; later calls do nothing). */
  dispose(): void;
}

/** A call admitted by `tryAcquire()`. Report exactly one outcome; later reports are ignored. */
export interface CircuitPermit {
  /** The call succeeded. */
  success(): void;
  /** The call failed: counted against the dependency. */
  failure(error?: unknown): void;
  /** The call says nothing about the dependency (cancelled, say): not counted. */
  ignore(): void;
}

const stateChannel = bulwarkChannel<StateChangeEvent>('circuit-breaker', 'state-change');

/** Resilience rejections say nothing about the dependency's health. */
const notTheDependency = ['BULWARK_BULKHEAD_FULL', 'BULWARK_RATE_LIMITED', 'BULWARK_CIRCUIT_OPEN'];

/** The class behind {@link circuitBreaker}. */
export class CircuitBreakerPolicy extends BasePolicy {
  override readonly policyKind = 'circuit-breaker';
  override readonly name: string | undefined;
  readonly #window: Window;
  /** Recording needs the time: a time window, or slow-call tracking. Otherwise a closed circuit never reads it. */
  readonly #timed: boolean;
  readonly #stats: StatsRecorder | undefined;
  readonly #thresholds: Thresholds;
  readonly #slowMs: number;
  readonly #openDuration: (opens: number, previous: number) => number;
  readonly #permitted: number;
  readonly #successThreshold: number;
  readonly #maxHalfOpenMs: number;
  readonly #classify: FailureClassifier | undefined;
  readonly #clock: Clock;
  #state: CircuitState = 'closed';
  /** Bumped on every transition: outcomes of calls admitted under another generation are dropped. */
  #generation = 0;
  #opens = 0;
  #lastOpenMs = 0;
  #openUntil = 0;
  #halfOpenSince = 0;
  #trials = 0;
  #trialSuccesses = 0;
  #trialFailures = 0;
  #isolations = 0;
  #disables = 0;
  // Outcome callbacks for the current generation, shared by every call that needs nothing else recorded.
  #sharedSuccess!: () => void;
  #sharedFailure!: (error: unknown) => void;
  readonly #changed = new Emitter<StateChangeEvent>(stateChannel);
  /** On every state change; returns an unsubscribe function. */
  readonly onStateChange = this.#changed.on;
  /** When the circuit opens, or is isolated by hand; returns an unsubscribe function. */
  readonly onBreak: EventSource<StateChangeEvent> = (listener) =>
    this.#changed.on((e) => {
      if (e.to === 'open' || e.to === 'isolated') listener(e);
    });
  /** When the circuit goes half-open: the next call is a trial. */
  readonly onHalfOpen: EventSource<StateChangeEvent> = (listener) =>
    this.#changed.on((e) => {
      if (e.to === 'half-open') listener(e);
    });
  /** When the circuit closes again. */
  readonly onReset: EventSource<StateChangeEvent> = (listener) =>
    this.#changed.on((e) => {
      if (e.to === 'closed') listener(e);
    });

  constructor(options: CircuitBreakerOptions = {}) {
    super();
    const o = parseOptions(circuitBreakerOptionsSchema, options, 'circuitBreaker()');
    this.name = o.name;
    this.#window = o.window.create();
    this.#thresholds = {
      failureRateBp: Math.round(o.failureRateThreshold * 10_000),
      slowCallRateBp: Math.round(o.slowCallRateThreshold * 10_000),
    };
    this.#slowMs = o.slowCallDurationMs;
    this.#stats = o.stats ? new StatsRecorder() : undefined;
    this.#timed = o.window.needsTime === true || this.#slowMs !== Infinity || o.stats;
    this.#openDuration = o.openMs;
    this.#permitted = o.halfOpen.permittedCalls;
    this.#successThreshold = o.halfOpen.successThreshold;
    this.#maxHalfOpenMs = o.halfOpen.maxHalfOpenMs;
    this.#classify = o.isFailure;
    this.#clock = o.clock;
    this.#shareCallbacks();
    if (o.initialState !== undefined) this.#restore(o.initialState);
  }

  /** Builds the current generation's shared outcome callbacks (once per transition, not once per call). */
  #shareCallbacks(): void {
    const generation = this.#generation;
    const window = this.#window;
    this.#sharedSuccess = () => {
      // A success in the closed state only feeds the window (it can never open the circuit).
      if (generation === this.#generation && this.#state === 'closed') window.record(false, false, 0);
      else this.#record(generation, 'success', 0);
    };
    this.#sharedFailure = (error) => this.#record(generation, this.#classOf({ kind: 'error', error }, undefined), 0);
  }

  /** The state now (an open circuit whose time is up reads `half-open`). */
  get state(): CircuitState {
    this.#tick(this.#clock.now());
    return this.#state;
  }

  /** Ms until a call may be admitted: 0 when one would be now; `Infinity` while isolated. */
  get retryAfterMs(): number {
    const now = this.#clock.now();
    this.#tick(now);
    if (this.#state === 'isolated') return Infinity;
    if (this.#state === 'open') return this.#openUntil - now;
    if (this.#state === 'half-open' && this.#trials >= this.#permitted) {
      return Math.max(0, this.#halfOpenSince + this.#maxHalfOpenMs - now);
    }
    return 0;
  }

  /** What the window holds now. */
  get counts(): { calls: number; failures: number; slow: number } {
    return this.#window.counts(this.#clock.now());
  }

  // ---- admission ----

  /** Time-driven transitions: open → half-open when its time is up; half-open → open if trials never report. */
  #tick(now: number): void {
    if (this.#state === 'open' && now >= this.#openUntil) this.#toHalfOpen(now);
    else if (this.#state === 'half-open' && now - this.#halfOpenSince >= this.#maxHalfOpenMs) {
      this.#toOpen(now);
      if (now >= this.#openUntil) this.#toHalfOpen(now);
    }
  }

  /**
   * Admits a call: returns its generation, or -1 when the circuit refuses it. A refusal is a plain return, not an
   * exception, so `tryAcquire` turns calls away as cheaply as it admits them.
   */
  #admit(now: number): number {
    this.#tick(now);
    const state = this.#state;
    if (state === 'closed' || state === 'disabled') return this.#generation;
    if (state === 'half-open' && this.#trials < this.#permitted) {
      this.#trials++;
      return this.#generation;
    }
    return -1;
  }

  /** The error for a call refused at `now` (the state is open, isolated, or half-open with its trials taken). */
  #refusal(now: number): BrokenCircuitError {
    const state = this.#state as BrokenCircuitError['state'];
    const retryAfterMs =
      state === 'isolated'
        ? undefined
        : state === 'open'
          ? this.#openUntil - now
          : Math.max(0, this.#halfOpenSince + this.#maxHalfOpenMs - now);
    return new BrokenCircuitError(state, retryAfterMs, this);
  }

  // ---- outcomes ----

  #classOf(outcome: CallOutcome<unknown>, ctx: ExecuteContext | undefined): OutcomeClass {
    if (this.#classify !== undefined) {
      const c = this.#classify(outcome);
      return c === true ? 'failure' : c === false ? 'success' : c;
    }
    if (outcome.kind === 'value') return 'success';
    const e = outcome.error;
    if (ctx !== undefined && ctx.signal !== neverAbortedSignal && ctx.signal.aborted && e === ctx.signal.reason) {
      return 'ignore';
    }
    if (isBulwarkError(e) && notTheDependency.includes(e.code)) return 'ignore';
    return 'failure';
  }

  /** Records a finished call admitted under `generation`. */
  #record(generation: number, cls: OutcomeClass, started: number): void {
    const now = this.#timed ? this.#clock.now() : 0;
    this.#stats?.record(cls, now - started);
    if (generation !== this.#generation) return; // admitted under an earlier state: never drives a transition
    const state = this.#state;
    if (state === 'disabled' || state === 'isolated' || state === 'open') return;
    if (state === 'half-open') {
      if (cls === 'ignore')
        this.#trials--; // its slot goes to another trial
      else if (cls === 'success') {
        if (++this.#trialSuccesses >= this.#successThreshold) this.#toClosed();
      } else if (this.#permitted - ++this.#trialFailures < this.#successThreshold) this.#toOpen(this.#clock.now());
      return;
    }
    if (cls === 'ignore') return;
    const slow = this.#slowMs !== Infinity && now - started >= this.#slowMs;
    this.#window.record(cls === 'failure', slow, now);
    if ((cls === 'failure' || slow) && this.#window.shouldOpen(now, this.#thresholds)) this.#toOpen(this.#clock.now());
  }

  // ---- transitions ----

  #set(to: CircuitState, openMs?: number): void {
    const from = this.#state;
    this.#state = to;
    this.#generation++;
    this.#shareCallbacks();
    if (this.#changed.active && from !== to) {
      this.#changed.emit(openMs === undefined ? { name: this.name, from, to } : { name: this.name, from, to, openMs });
    }
  }

  #toOpen(now: number): void {
    this.#opens++;
    const ms = Math.max(0, this.#openDuration(this.#opens, this.#lastOpenMs));
    this.#lastOpenMs = ms;
    this.#openUntil = now + ms;
    this.#set('open', ms);
  }

  #toHalfOpen(now: number): void {
    this.#halfOpenSince = now;
    this.#trials = this.#trialSuccesses = this.#trialFailures = 0;
    this.#set('half-open');
  }

  #toClosed(): void {
    this.#opens = 0;
    this.#lastOpenMs = 0;
    this.#window.reset();
    this.#set('closed');
  }

  // ---- public API ----

  /** Runs one call through this layer: the run protocol of `@bulwark/core/internal`. @internal */
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | PromiseLike<T> {
    let now = 0;
    let generation: number;
    if (this.#state === 'closed') {
      // The common case needs no time unless slow calls or a time window are measured.
      generation = this.#generation;
      if (this.#timed) now = this.#clock.now();
    } else {
      now = this.#clock.now();
      generation = this.#admit(now);
      if (generation === -1) {
        this.#stats?.rejected();
        throw this.#refusal(now);
      }
      if (this.#state === 'disabled') return next(fn, ctx);
    }
    let result: T | PromiseLike<T>;
    try {
      result = next === callFunction ? fn(ctx) : next(fn, ctx);
    } catch (error) {
      this.#record(generation, this.#classOf({ kind: 'error', error }, ctx), now);
      throw error;
    }
    if (!isPromiseLike<T>(result)) {
      this.#record(generation, this.#classOf({ kind: 'value', value: result }, ctx), now);
      return result;
    }
    // Observe the outcome on a side reaction and hand the caller the function's own promise: the breaker never
    // changes an outcome, so it need not rethrow (a throw in a reaction, and the rejected promise it makes, cost
    // more than the rest of the failure path). Reactions run in order, so this records before the caller resumes.
    if (
      generation === this.#generation &&
      !this.#timed &&
      this.#classify === undefined &&
      ctx.signal === neverAbortedSignal
    ) {
      // Nothing call-specific to record (no timing, no custom classes, no caller abort to tell apart).
      result.then(this.#sharedSuccess, this.#sharedFailure);
      return result;
    }
    result.then(
      (value) => {
        this.#record(
          generation,
          this.#classify === undefined ? 'success' : this.#classOf({ kind: 'value', value }, ctx),
          now,
        );
      },
      (error: unknown) => {
        this.#record(generation, this.#classOf({ kind: 'error', error }, ctx), now);
      },
    );
    return result;
  }

  /**
   * Admits a call for code that cannot be wrapped in `execute`: returns a permit to report its outcome on, or
   * `undefined` if the circuit refuses it (`retryAfterMs` then says for how long).
   *
   * @example
   * ```ts
   * const permit = breaker.tryAcquire();
   * if (!permit) return reply.code(503).send();
   * stream.on('end', () => permit.success()).on('error', (e) => permit.failure(e));
   * ```
   */
  tryAcquire(): CircuitPermit | undefined {
    const now = this.#clock.now();
    const generation = this.#admit(now);
    if (generation === -1) {
      this.#stats?.rejected();
      return undefined;
    }
    let reported = false;
    const report = (outcome: CallOutcome<unknown> | 'ignore') => {
      if (reported) return;
      reported = true;
      this.#record(generation, outcome === 'ignore' ? 'ignore' : this.#classOf(outcome, undefined), now);
    };
    return {
      success: () => report({ kind: 'value', value: undefined }),
      failure: (error?: unknown) => report({ kind: 'error', error: error ?? new Error('failure') }),
      ignore: () => report('ignore'),
    };
  }

  /**
   * Holds the circuit open by hand (calls fail with `BrokenCircuitError`, state `isolated`) until every handle
   * returned is disposed; then it closes.
   *
   * @example
   * ```ts
   * const maintenance = breaker.isolate();
   * await migrate();
   * maintenance.dispose();
   * ```
   */
  isolate(): CircuitHold {
    if (this.#isolations++ === 0) this.#set('isolated');
    return this.#handle(() => {
      if (--this.#isolations === 0) this.#toClosed();
    });
  }

  /**
   * Stops the breaker from judging: every call passes and nothing is recorded, until every handle is disposed
   * (then it starts closed with an empty window).
   */
  disable(): CircuitHold {
    if (this.#disables++ === 0) this.#set('disabled');
    return this.#handle(() => {
      if (--this.#disables === 0) this.#toClosed();
    });
  }

  #handle(release: () => void): CircuitHold {
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        release();
      },
    };
  }

  /** Closes the circuit and forgets the window (isolations and disables are released too). */
  reset(): void {
    this.#isolations = 0;
    this.#disables = 0;
    this.#toClosed();
  }

  /**
   * Outcomes, refusals and call latencies (mean, max, p50–p99.9) since the breaker was created or since
   * {@link resetStats}, for a breaker created with `stats: true`.
   *
   * @throws TypeError when the breaker was created without `stats: true`.
   *
   * @example
   * ```ts
   * const breaker = circuitBreaker({ stats: true });
   * const { failures, rejections, latencyMs } = breaker.stats();
   * log.info({ failures, rejections, p99: latencyMs.p99 }, 'payments breaker');
   * ```
   */
  stats(): CircuitBreakerStats {
    if (this.#stats === undefined) {
      throw new TypeError('circuit breaker stats are off: create it with circuitBreaker({ stats: true })');
    }
    return this.#stats.snapshot();
  }

  /** Starts {@link stats} afresh (a no-op without `stats: true`). */
  resetStats(): void {
    this.#stats?.reset();
  }

  /**
   * The state to carry across processes (e.g. serverless cold starts): pass it back as `initialState`. The
   * window's contents are not carried; an isolated or disabled breaker saves as closed.
   */
  toJSON(): CircuitBreakerSnapshot {
    const now = this.#clock.now();
    this.#tick(now);
    const state = this.#state === 'open' || this.#state === 'half-open' ? this.#state : 'closed';
    return {
      state,
      opens: this.#opens,
      remainingMs: state === 'open' ? Math.max(0, this.#openUntil - now) : 0,
      savedAt: Date.now(),
    };
  }

  #restore(s: CircuitBreakerSnapshot): void {
    const now = this.#clock.now();
    this.#opens = s.opens;
    if (s.state === 'open') {
      const left = s.remainingMs - Math.max(0, Date.now() - s.savedAt);
      this.#state = 'open';
      this.#openUntil = now + Math.max(0, left);
    } else if (s.state === 'half-open') {
      // The trials of the process that saved it are gone; admit fresh ones.
      this.#state = 'half-open';
      this.#halfOpenSince = now;
    }
  }
}

/**
 * A circuit breaker. While the failure rate (or slow-call rate) in its window stays under the thresholds, calls
 * pass (`closed`). Past them the circuit `open`s: calls fail at once with {@link BrokenCircuitError} carrying
 * `retryAfterMs`. After `openMs` it is `half-open`: `permittedCalls` trials run, other calls are refused at once; if
 * `successThreshold` trials succeed it closes, otherwise it opens again (for longer, if `openMs` grows).
 *
 * Outcomes of calls admitted before a transition never cause another: a slow success from the closed state cannot
 * close a circuit that has since opened and gone half-open (each transition starts a new generation).
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * const breaker = circuitBreaker({
 *   window: timeWindow({ windowMs: 30_000, minimumCalls: 20 }),
 *   failureRateThreshold: 0.5,
 *   slowCallDurationMs: 2_000,
 *   slowCallRateThreshold: 0.8,
 *   openMs: (opens) => Math.min(60_000, 5_000 * 2 ** (opens - 1)),
 *   halfOpen: { permittedCalls: 3, successThreshold: 2 },
 * });
 * breaker.onStateChange(({ from, to }) => log.warn({ from, to }, 'payments circuit'));
 * const res = await breaker.execute(({ signal }) => fetch(PAYMENTS_URL, { signal }));
 * ```
 */
export function circuitBreaker(options?: CircuitBreakerOptions): CircuitBreakerPolicy {
  return new CircuitBreakerPolicy(options);
}
