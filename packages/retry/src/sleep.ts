import { neverAbortedSignal, subscribeAbort, unsubscribeAbort, type Clock } from '@bulwark/core';

/**
 * Waits `ms` on `clock`, or rejects with the signal's reason the moment it aborts (cockatiel waits out the whole
 * delay and then calls the function once more). Nothing is left behind either way.
 */
export function sleep(ms: number, signal: AbortSignal, clock: Clock): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's reason, as it is
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const abortable = signal !== neverAbortedSignal;
    const waiter = {
      timer: undefined as unknown,
      onAbort(reason: unknown) {
        clock.clearTimeout(waiter.timer);
        // The caller's abort reason is passed on as it is, whatever it is.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(reason);
      },
    };
    waiter.timer = clock.setTimeout(() => {
      if (abortable) unsubscribeAbort(signal, waiter);
      resolve();
    }, ms);
    if (abortable) subscribeAbort(signal, waiter);
  });
}
