import { BulwarkError, isBulwarkError, type AdmissionGate } from '@bulwark/core';

/**
 * A circuit breaker turned the call away: the circuit is open, its half-open trials are taken, or it is isolated.
 * `retryAfterMs` says when a trial call may be admitted (absent while isolated); `gate` is the breaker, for a caller
 * that waits for its next state change (a retry with `waitForCircuit`).
 *
 * @example
 * ```ts
 * try { await breaker.execute(call) } catch (e) {
 *   if (isBrokenCircuitError(e)) res.setHeader('retry-after', Math.ceil((e.retryAfterMs ?? 1_000) / 1000));
 * }
 * ```
 */
export class BrokenCircuitError extends BulwarkError {
  declare readonly code: 'BULWARK_CIRCUIT_OPEN';
  /** The state that rejected the call. */
  readonly state: 'open' | 'half-open' | 'isolated';

  constructor(state: 'open' | 'half-open' | 'isolated', retryAfterMs: number | undefined, gate?: AdmissionGate) {
    super(
      'BULWARK_CIRCUIT_OPEN',
      state === 'isolated'
        ? 'Circuit isolated: calls are refused until the isolation is released'
        : state === 'open'
          ? `Circuit open: calls are refused for ${Math.ceil(retryAfterMs ?? 0)} ms more`
          : 'Circuit half-open: its trial calls are already running',
      { retryAfterMs, gate },
    );
    this.state = state;
  }
}

/**
 * True when `error` is a {@link BrokenCircuitError} (from any copy of the package).
 *
 * @example
 * ```ts
 * if (isBrokenCircuitError(err)) return cachedAnswer();
 * ```
 */
export function isBrokenCircuitError(error: unknown): error is BrokenCircuitError {
  return isBulwarkError(error, 'BULWARK_CIRCUIT_OPEN');
}
