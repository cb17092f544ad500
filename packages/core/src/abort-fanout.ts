/**
 * One `abort` listener per caller signal, however many calls are waiting on it.
 *
 * Adding and removing an EventTarget listener per call is slow, and thousands of concurrent calls sharing one
 * signal trip `MaxListenersExceededWarning`. Here a signal gets a single listener the first
 * time anyone subscribes; calls join and leave a `Set`, which costs a hash insert and delete.
 */

/** Something to tell when a signal aborts. */
export interface AbortSubscriber {
  onAbort(reason: unknown): void;
}

const subscribers = new WeakMap<AbortSignal, Set<AbortSubscriber>>();

/** Calls `subscriber.onAbort(reason)` when `signal` aborts, unless unsubscribed first. */
export function subscribeAbort(signal: AbortSignal, subscriber: AbortSubscriber): void {
  let set = subscribers.get(signal);
  if (set === undefined) {
    const created = new Set<AbortSubscriber>();
    set = created;
    subscribers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        subscribers.delete(signal);
        for (const s of created) s.onAbort(signal.reason);
        created.clear();
      },
      { once: true },
    );
  }
  set.add(subscriber);
}

/** Stops telling `subscriber` about `signal`. */
export function unsubscribeAbort(signal: AbortSignal, subscriber: AbortSubscriber): void {
  subscribers.get(signal)?.delete(subscriber);
}

/** True while this module's one `abort` listener is on `signal` (it stays until the signal aborts, by design). */
export function fanoutListening(signal: AbortSignal): boolean {
  return subscribers.has(signal);
}

/** How many subscribers wait on `signal` (for leak tests). */
export function abortSubscriberCount(signal: AbortSignal): number {
  return subscribers.get(signal)?.size ?? 0;
}
