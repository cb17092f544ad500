/** What {@link retryModel} computed for one call. */
export interface RetryModelRun {
  /** Attempts made. */
  readonly attempts: number;
  /** Whether the last attempt succeeded. */
  readonly succeeded: boolean;
  /** When the call settled, from its start. */
  readonly settledAt: number;
  /** When each attempt started. */
  readonly startedAt: readonly number[];
}

/**
 * The reference retry loop with a constant backoff: attempt until one succeeds, the attempts run out, or the next
 * start would pass `maxElapsedMs`. Attempt `n` succeeds when `plan[n - 1]` is true (or past the plan's end) and
 * takes `workMs`.
 *
 * @example
 * ```ts
 * const expected = retryModel({ plan: [false, false, true], maxAttempts: 3, delayMs: 100, workMs: 10 });
 * // { attempts: 3, succeeded: true, settledAt: 230, startedAt: [0, 110, 220] }
 * ```
 */
export function retryModel(options: {
  plan: readonly boolean[];
  maxAttempts: number;
  delayMs: number;
  workMs: number;
  maxElapsedMs?: number;
}): RetryModelRun {
  const { plan, maxAttempts, delayMs, workMs, maxElapsedMs } = options;
  const startedAt: number[] = [];
  let t = 0;
  for (let n = 1; ; n++) {
    startedAt.push(t);
    t += workMs;
    const ok = plan[n - 1] ?? true;
    if (ok || n === maxAttempts || (maxElapsedMs !== undefined && t + delayMs > maxElapsedMs)) {
      return { attempts: n, succeeded: ok, settledAt: t, startedAt };
    }
    t += delayMs;
  }
}
