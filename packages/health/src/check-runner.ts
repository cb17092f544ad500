import { TimeoutError, type Clock } from '@bulwark/core';
import { isPromiseLike, unrefTimer } from '@bulwark/core/internal';
import type { CheckResult, CheckReturn, ParsedCheck } from './check.js';
import { normalizeStatus, type HealthStatus } from './status.js';

/** The result of one run of a check, as probes and listeners see it. */
export interface CheckOutcome {
  readonly name: string;
  readonly status: HealthStatus;
  readonly critical: boolean;
  readonly observedValue?: unknown;
  readonly observedUnit?: string;
  /**
   * Why the check is not passing: the check's own `output`, a thrown error's message, or `timeout`. Endpoints show
   * it only with `exposeDetails` (except `timeout`, which tells nothing about the dependency).
   */
  readonly output?: string;
  readonly affectedEndpoints?: readonly string[];
  readonly links?: Readonly<Record<string, string>>;
  /** True when the run did not finish within `timeoutMs`. */
  readonly timedOut: boolean;
  /** When the run finished (ISO 8601). */
  readonly time: string;
  /** How long the run took, in milliseconds (by the health's clock). */
  readonly durationMs: number;
}

type RunResult = Omit<CheckOutcome, 'name' | 'critical' | 'time' | 'durationMs'>;

const TIMED_OUT: RunResult = { status: 'fail', output: 'timeout', timedOut: true };

/** A check's return value as a result. */
function fromReturn(value: CheckReturn): RunResult {
  if (value === true || value === undefined) return { status: 'pass', timedOut: false };
  if (value === false) return { status: 'fail', output: 'check returned false', timedOut: false };
  if (typeof value !== 'object' || value === null) {
    return {
      status: 'fail',
      output: `check returned ${typeof value}, expected a boolean or a result`,
      timedOut: false,
    };
  }
  const r: CheckResult = value;
  const status = normalizeStatus(r.status);
  if (status === undefined)
    return { status: 'fail', output: `invalid status ${JSON.stringify(r.status)}`, timedOut: false };
  return {
    status,
    observedValue: r.observedValue,
    observedUnit: r.observedUnit,
    output: status === 'pass' ? undefined : r.output,
    affectedEndpoints: r.affectedEndpoints,
    links: r.links,
    timedOut: false,
  };
}

function fromError(error: unknown): RunResult {
  return { status: 'fail', output: error instanceof Error ? error.message : String(error), timedOut: false };
}

/**
 * Runs one check on demand: concurrent callers share the run in flight (single-flight), `cacheMs` reuses a result,
 * `intervalMs` runs it in the background. A run that outlives its timeout reports `fail`/`timeout` at once, and no
 * new run starts until it settles: a hung dependency is not called again and again by every probe.
 */
export class CheckRunner {
  readonly check: ParsedCheck;
  readonly #clock: Clock;
  readonly #report: (outcome: CheckOutcome) => void;
  #last: CheckOutcome | undefined = undefined;
  #lastAt = 0;
  #inflight: Promise<CheckOutcome> | undefined = undefined;
  /** A run timed out and has not settled yet. */
  #hung = false;
  #timer: unknown = undefined;
  #closed = false;

  constructor(check: ParsedCheck, clock: Clock, report: (outcome: CheckOutcome) => void) {
    this.check = check;
    this.#clock = clock;
    this.#report = report;
    if (check.intervalMs !== undefined) this.#background();
  }

  /**
   * The check's current result: a value when it is known now (cached, background, synchronous), else a promise.
   * `now` lets a probe read the clock once for all its checks.
   */
  result(now = this.#clock.now()): CheckOutcome | Promise<CheckOutcome> {
    if (this.#inflight !== undefined) return this.#inflight;
    const last = this.#last;
    if (last !== undefined) {
      if (this.check.intervalMs !== undefined || this.#hung) return last;
      const cacheMs = this.check.cacheMs;
      if (cacheMs !== undefined && now - this.#lastAt < cacheMs) return last;
    }
    return this.#run();
  }

  /** Stops background runs. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #background(): void {
    if (this.#closed) return;
    const next = () => {
      if (this.#closed) return;
      this.#timer = this.#clock.setTimeout(() => this.#background(), this.check.intervalMs!);
      unrefTimer(this.#timer);
    };
    const result = this.#inflight ?? (this.#hung ? undefined : this.#run());
    if (isPromiseLike(result)) void result.then(next);
    else next();
  }

  #run(): CheckOutcome | Promise<CheckOutcome> {
    const started = this.#clock.now();
    const controller = new AbortController();
    let value: CheckReturn | Promise<CheckReturn>;
    try {
      value = this.check.run(controller.signal);
    } catch (error) {
      return this.#finish(fromError(error), started);
    }
    if (!isPromiseLike(value)) return this.#finish(fromReturn(value), started);
    const pending = value;
    const inflight = new Promise<CheckOutcome>((resolve) => {
      let timedOut = false;
      const timeoutMs = this.check.timeoutMs;
      const timer = this.#clock.setTimeout(() => {
        timedOut = true;
        this.#hung = true;
        controller.abort(new TimeoutError(timeoutMs));
        resolve(this.#finish(TIMED_OUT, started));
      }, timeoutMs);
      const settle = (result: RunResult) => {
        if (timedOut) {
          this.#hung = false; // late: the next probe may run the check again
          return;
        }
        this.#clock.clearTimeout(timer);
        resolve(this.#finish(result, started));
      };
      pending.then(
        (v) => settle(fromReturn(v)),
        (error: unknown) => settle(fromError(error)),
      );
    });
    this.#inflight = inflight;
    return inflight;
  }

  #finish(result: RunResult, started: number): CheckOutcome {
    const now = this.#clock.now();
    const outcome: CheckOutcome = {
      name: this.check.name,
      critical: this.check.critical,
      ...result,
      time: new Date().toISOString(),
      durationMs: now - started,
    };
    this.#inflight = undefined;
    this.#last = outcome;
    this.#lastAt = now;
    this.#report(outcome);
    return outcome;
  }
}
