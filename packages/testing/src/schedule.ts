import { getEventListeners } from 'node:events';
import { abortSubscriberCount, fanoutListening } from '@bulwark/core/internal';
import type { VirtualClock } from '@bulwark/core/testing';

/** How one attempt at the upstream ends. */
export type AttemptOutcome =
  | { readonly kind: 'success'; readonly delayMs: number; readonly value?: unknown }
  | { readonly kind: 'failure'; readonly delayMs: number }
  | { readonly kind: 'retry-after'; readonly delayMs: number; readonly retryAfterMs: number }
  | { readonly kind: 'hang' };

/** One call in a schedule: when it arrives, and how each attempt it makes ends (past the list: success at once). */
export interface ScheduledCall {
  readonly at: number;
  readonly attempts: readonly AttemptOutcome[];
}

/** The error a scheduled failure rejects with; `retryAfterMs` is set for `retry-after` outcomes (retry honours it). */
export class ScheduledFailure extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(call: number, attempt: number, retryAfterMs?: number) {
    super(
      `call ${call} attempt ${attempt} failed${retryAfterMs === undefined ? '' : ` (retry after ${retryAfterMs} ms)`}`,
    );
    this.name = 'ScheduledFailure';
    this.retryAfterMs = retryAfterMs;
  }
}

/** How one scheduled call ended. */
export interface ScheduleResult {
  readonly index: number;
  readonly at: number;
  /** `pending`: never settled (it hung and nothing aborted it). */
  readonly status: 'fulfilled' | 'rejected' | 'pending';
  readonly value?: unknown;
  readonly reason?: unknown;
  /** Virtual time it settled at. */
  readonly settledAt?: number;
  /** Attempts it made at the upstream. */
  readonly attempts: number;
}

/** Options of {@link runSchedule}. */
export interface RunScheduleOptions {
  /** The virtual clock every policy under test was built with. */
  clock: VirtualClock;
  schedule: readonly ScheduledCall[];
  /**
   * Makes one call through your code: call `upstream(signal)` as your code calls its dependency, e.g.
   * `(upstream) => policy.execute(({ signal }) => upstream(signal))`.
   */
  run: (upstream: (signal?: AbortSignal) => Promise<unknown>, index: number) => Promise<unknown>;
  /** Most timers to fire after the last arrival before giving up (default 100 000): a policy that never rests. */
  timerLimit?: number;
}

/**
 * Runs a schedule of calls through your code on a virtual clock, without real waiting: each call arrives at its
 * time, and each attempt at the simulated upstream succeeds, fails, asks to retry after a while, or hangs until
 * aborted, as scheduled. Returns how every call ended and when.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const policy = compose(retry({ clock }), timeout({ ms: 500, clock }));
 * const results = await runSchedule({ clock, schedule, run: (upstream) => policy.execute(({ signal }) => upstream(signal)) });
 * ```
 */
export async function runSchedule(options: RunScheduleOptions): Promise<ScheduleResult[]> {
  const { clock, schedule, run } = options;
  const results: ScheduleResult[] = [];
  const settled: Promise<void>[] = [];
  const order = schedule.map((call, index) => ({ call, index })).sort((a, b) => a.call.at - b.call.at);
  for (const { call, index } of order) {
    if (call.at > clock.now()) await clock.advance(call.at - clock.now());
    let attempts = 0;
    const upstream = (signal?: AbortSignal): Promise<unknown> => {
      const attempt = attempts++;
      const outcome = call.attempts[attempt] ?? { kind: 'success', delayMs: 0 };
      return simulate(clock, outcome, index, attempt + 1, signal);
    };
    const result: { -readonly [K in keyof ScheduleResult]: ScheduleResult[K] } = {
      index,
      at: call.at,
      status: 'pending',
      get attempts() {
        return attempts;
      },
    };
    results[index] = result;
    let promise: Promise<unknown>;
    try {
      promise = run(upstream, index);
    } catch (error) {
      // Whatever the caller's code threw is what the result reports.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      promise = Promise.reject(error);
    }
    settled.push(
      promise.then(
        (value) => void Object.assign(result, { status: 'fulfilled', value, settledAt: clock.now() }),
        (reason: unknown) => void Object.assign(result, { status: 'rejected', reason, settledAt: clock.now() }),
      ),
    );
  }
  await clock.runAll(options.timerLimit ?? 100_000);
  return results.map((r) => ({ ...r, attempts: r.attempts }));
}

function simulate(
  clock: VirtualClock,
  outcome: AttemptOutcome,
  call: number,
  attempt: number,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      if (timer !== undefined) clock.clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      outcome.kind === 'hang'
        ? undefined
        : clock.setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            if (outcome.kind === 'success') resolve(outcome.value ?? `call ${call} attempt ${attempt}`);
            else {
              const retryAfterMs = outcome.kind === 'retry-after' ? outcome.retryAfterMs : undefined;
              reject(new ScheduledFailure(call, attempt, retryAfterMs));
            }
          }, outcome.delayMs);
  });
}

/**
 * Throws when a run left work behind: timers still armed on the virtual clock, or `abort` listeners still on the
 * given signals (a policy that forgot to detach from its caller's signal leaks one per call). The one listener
 * Bulwark keeps per caller signal is not a leak; calls still waiting behind it are.
 *
 * @example
 * ```ts
 * await runSchedule({ clock, schedule, run });
 * assertIdle({ clock, signals: [caller.signal] });
 * ```
 */
export function assertIdle(options: { clock?: VirtualClock; signals?: readonly AbortSignal[] }): void {
  const problems: string[] = [];
  const timers = options.clock?.pendingTimers ?? 0;
  if (timers > 0) problems.push(`${timers} timer(s) still armed on the virtual clock`);
  options.signals?.forEach((signal, i) => {
    // Bulwark's policies share one listener per caller signal (kept until it aborts) and join a set behind it:
    // count the calls still in that set, and every other listener.
    const shared = fanoutListening(signal) ? 1 : 0;
    const listeners = getEventListeners(signal, 'abort').length - shared + abortSubscriberCount(signal);
    if (listeners > 0) problems.push(`signal ${i} still has ${listeners} abort listener(s)`);
  });
  if (problems.length > 0) throw new Error(`not idle after the run: ${problems.join('; ')}`);
}
