import type { BulwarkChannel } from './channel.js';

/** A listener for events of type `T`. */
export type Listener<T> = (event: T) => void;

/** Removes the listener it was returned for. Calling it twice is harmless. */
export type Unsubscribe = () => void;

/** Subscribes a listener; returns its {@link Unsubscribe}. Exposed by primitives as `onX` properties. */
export type EventSource<T> = (listener: Listener<T>) => Unsubscribe;

/**
 * Per-instance typed listeners (no `EventEmitter`), optionally mirrored to a diagnostics channel.
 * `active` is true when anyone listens or subscribes, so call sites build the event object only then.
 *
 * @example
 * ```ts
 * class Thing {
 *   readonly #changed = new Emitter<{ from: string; to: string }>(bulwarkChannel('thing', 'change'));
 *   readonly onChange = this.#changed.on;
 *   set(to: string) { if (this.#changed.active) this.#changed.emit({ from: this.state, to }); }
 * }
 * const off = new Thing().onChange((e) => console.log(e.to));
 * off();
 * ```
 */
export class Emitter<T> {
  #listeners: readonly Listener<T>[] = [];
  readonly #channel: BulwarkChannel<T> | undefined;

  constructor(channel?: BulwarkChannel<T>) {
    this.#channel = channel;
  }

  /** Adds a listener; returns a function that removes it. Bound, so it can be handed out as `onX`. */
  readonly on: EventSource<T> = (listener) => {
    // Copy on write: an emit in progress keeps iterating the array it started with.
    this.#listeners = [...this.#listeners, listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const i = this.#listeners.indexOf(listener);
      if (i !== -1) this.#listeners = this.#listeners.filter((_, j) => j !== i);
    };
  };

  /** Number of per-instance listeners. */
  get size(): number {
    return this.#listeners.length;
  }

  /** True when an `emit` would reach anyone (listeners or channel subscribers). */
  get active(): boolean {
    return this.#listeners.length > 0 || this.#channel?.hasSubscribers === true;
  }

  /**
   * Calls every listener, then publishes on the channel if it has subscribers. A throwing listener cannot corrupt
   * the primitive mid-transition: its error is rethrown on a later microtask, where it surfaces as uncaught.
   */
  emit(event: T): void {
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    if (this.#channel?.hasSubscribers) this.#channel.publish(event);
  }
}
