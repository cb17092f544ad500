import { type AdmissionGate, type Clock } from '@bulwark/core';
import { neverAbortedSignal, subscribeAbort, unsubscribeAbort } from '@bulwark/core/internal';

/**
 * Waits at least `ms` by `clock.now()` (a timer that fires early is re-armed for the rest), or rejects with the
 * signal's reason the moment it aborts (the function is not called again).
 * With a `gate`, it also ends at the gate's next state change (a circuit that closes early). Nothing is left behind
 * either way.
 */
export function sleep(ms: number, signal: AbortSignal, clock: Clock, gate?: AdmissionGate): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's reason, as it is
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const abortable = signal !== neverAbortedSignal;
    let stopWatching: (() => void) | undefined;
    const waiter = {
      timer: undefined as unknown,
      onAbort(reason: unknown) {
        clock.clearTimeout(waiter.timer);
        stopWatching?.();
        // The caller's abort reason is passed on as it is, whatever it is.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(reason);
      },
    };
    const finish = () => {
      if (abortable) unsubscribeAbort(signal, waiter);
      stopWatching?.();
      resolve();
    };
    const until = clock.now() + ms;
    const fire = () => {
      // Node runs timers on the event loop's cached time, which lags the clock by a few ms on a busy loop, so a timer
      // can fire early: sleep out the rest, or a wait for an open circuit's deadline arrives before it and is refused.
      const left = until - clock.now();
      if (left > 0) {
        waiter.timer = clock.setTimeout(fire, left);
        return;
      }
      finish();
    };
    waiter.timer = clock.setTimeout(fire, ms);
    if (abortable) subscribeAbort(signal, waiter);
    if (gate !== undefined) {
      stopWatching = gate.onStateChange(() => {
        clock.clearTimeout(waiter.timer);
        finish();
      });
    }
  });
}
