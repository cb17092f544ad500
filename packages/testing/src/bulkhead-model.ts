/** A call arriving at a bulkhead: when, how long it runs once admitted, and when its caller gives up (if ever). */
export interface BulkheadModelCall {
  readonly at: number;
  readonly duration: number;
  readonly abortAfter?: number;
}

/** How a call ended in the reference: ran, refused as full, timed out in the queue, or aborted while queued. */
export type BulkheadModelOutcome = 'ok' | 'full' | 'queue-timeout' | 'aborted';

/** What {@link bulkheadModel} computed. */
export interface BulkheadModelRun {
  /** Per call, in input order: its outcome and when it started running. */
  readonly result: readonly { outcome?: BulkheadModelOutcome; start?: number }[];
  /** Most calls running at once. */
  readonly peak: number;
  /**
   * True when events of different kinds fell on one instant (a call finishing as another's queue time runs out):
   * either order is correct, so compare nothing for such a run.
   */
  readonly ambiguous: boolean;
}

/**
 * The reference bulkhead: a plain discrete-event simulation of the documented semantics (at most `maxConcurrent`
 * running, FIFO queue of `maxQueue`, queue timeout, aborts that only touch queued calls).
 *
 * @example
 * ```ts
 * const expected = bulkheadModel(calls, { maxConcurrent: 2, maxQueue: 1, queueTimeoutMs: 100 });
 * ```
 */
export function bulkheadModel(
  calls: readonly BulkheadModelCall[],
  options: { maxConcurrent: number; maxQueue?: number; queueTimeoutMs?: number },
): BulkheadModelRun {
  const max = options.maxConcurrent;
  const maxQueue = options.maxQueue ?? 0;
  const queueTimeout = options.queueTimeoutMs;
  const result: { outcome?: BulkheadModelOutcome; start?: number }[] = calls.map(() => ({}));
  type Ev = { t: number; seq: number; kind: 'arrive' | 'finish' | 'abort' | 'expire'; i: number };
  const events: Ev[] = [];
  let seq = 0;
  const push = (t: number, kind: Ev['kind'], i: number) => events.push({ t, seq: seq++, kind, i });
  calls.forEach((c, i) => push(c.at, 'arrive', i));
  let active = 0;
  let peak = 0;
  const queue: number[] = [];
  let ambiguous = false;
  let last: Ev | undefined;
  const start = (i: number, t: number) => {
    active++;
    peak = Math.max(peak, active);
    result[i]!.start = t;
    push(t + calls[i]!.duration, 'finish', i);
  };
  while (events.length) {
    events.sort((a, b) => a.t - b.t || a.seq - b.seq);
    const e = events.shift()!;
    if (last !== undefined && last.t === e.t && last.kind !== e.kind) ambiguous = true;
    last = e;
    const c = calls[e.i]!;
    if (e.kind === 'arrive') {
      if (c.abortAfter !== undefined) push(e.t + c.abortAfter, 'abort', e.i);
      if (active < max && queue.length === 0) start(e.i, e.t);
      else if (queue.length < maxQueue) {
        queue.push(e.i);
        if (queueTimeout !== undefined) push(e.t + queueTimeout, 'expire', e.i);
      } else result[e.i]!.outcome = 'full';
    } else if (e.kind === 'finish') {
      result[e.i]!.outcome = 'ok';
      active--;
      while (active < max && queue.length) start(queue.shift()!, e.t);
    } else {
      const q = queue.indexOf(e.i);
      if (q === -1) continue; // already running or done: an abort does not touch a running call
      queue.splice(q, 1);
      result[e.i]!.outcome = e.kind === 'abort' ? 'aborted' : 'queue-timeout';
    }
  }
  return { result, peak, ambiguous };
}
