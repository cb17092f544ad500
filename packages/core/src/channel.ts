import diagnosticsChannel from 'node:diagnostics_channel';

/** A typed `node:diagnostics_channel` channel. */
export interface BulwarkChannel<T> {
  /** `bulwark:<package>:<event>`. */
  readonly name: string;
  /** True while someone subscribes: check it before building a message. */
  readonly hasSubscribers: boolean;
  /** Sends `message` to the subscribers. */
  publish(message: T): void;
}

/**
 * The channel name for a package's event: `bulwark:<package>:<event>`.
 *
 * @example
 * ```ts
 * channelName('circuit-breaker', 'state-change'); // 'bulwark:circuit-breaker:state-change'
 * ```
 */
export function channelName(pkg: string, event: string): string {
  return `bulwark:${pkg}:${event}`;
}

/**
 * Returns the diagnostics channel for a package's event. Publish only when `hasSubscribers` is true, so an
 * unobserved primitive pays nothing (the {@link Emitter} helper does that check for you).
 *
 * @example
 * ```ts
 * const timeouts = bulwarkChannel<{ timeoutMs: number }>('core', 'timeout');
 * if (timeouts.hasSubscribers) timeouts.publish({ timeoutMs: 100 });
 * // a subscriber, e.g. @bulwark/telemetry:
 * diagnostics_channel.subscribe('bulwark:core:timeout', (msg) => console.log(msg));
 * ```
 */
export function bulwarkChannel<T>(pkg: string, event: string): BulwarkChannel<T> {
  return diagnosticsChannel.channel(channelName(pkg, event)) as unknown as BulwarkChannel<T>;
}
