/**
 * Every Bulwark failure is a `BulwarkError` with a stable `code`. Guards check a cross-realm brand and the code,
 * never `instanceof` alone, so they work when two copies of a package are loaded (ESM + CJS, or two versions).
 */

const kBulwarkError = Symbol.for('bulwark.error');

/** Stable error codes. Packages add their own; these are the ones the kernel and the planned packages use. */
export type BulwarkErrorCode =
  | 'BULWARK_TIMEOUT'
  | 'BULWARK_INVALID_CONFIG'
  | 'BULWARK_CIRCUIT_OPEN'
  | 'BULWARK_BULKHEAD_FULL'
  | 'BULWARK_RATE_LIMITED'
  | 'BULWARK_RETRY_BUDGET'
  | (string & {});

/** Options common to every Bulwark error. */
export interface BulwarkErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** When the caller may try again, in milliseconds (set by rejections that know, e.g. an open circuit). */
  retryAfterMs?: number;
  /** The refusing primitive, for a caller that would rather wait for it than for `retryAfterMs` (an open circuit). */
  gate?: AdmissionGate;
}

/**
 * What a refusing primitive offers a caller that waits for it (a retry around a circuit breaker): how long until it
 * may admit a call, and a signal when its state changes, so a wait ends when the circuit closes rather than when a
 * hint written at refusal runs out.
 *
 * @example
 * ```ts
 * if (isBulwarkError(e) && e.gate) {
 *   const off = e.gate.onStateChange(() => tryAgainNow()); // a circuit breaker is its own gate
 *   setTimeout(() => { off(); tryAgainNow(); }, e.gate.retryAfterMs);
 * }
 * ```
 */
export interface AdmissionGate {
  /** Ms until a call may be admitted: 0 when one would be now, `Infinity` while only a state change can admit one. */
  readonly retryAfterMs: number;
  /** Calls `listener` on each state change; returns a function that stops it. */
  onStateChange(listener: () => void): () => void;
}

/**
 * Base class of every error Bulwark throws.
 *
 * @example
 * ```ts
 * try { await policy.execute(call) } catch (e) {
 *   if (isBulwarkError(e)) log.warn({ code: e.code }, e.message);
 * }
 * ```
 */
export class BulwarkError extends Error {
  /** A stable, machine-readable code such as `BULWARK_TIMEOUT`. */
  readonly code: BulwarkErrorCode;
  /** When the caller may try again, in milliseconds, if the failure knows. */
  readonly retryAfterMs: number | undefined;
  /** The refusing primitive to wait for, when it offers one (see {@link AdmissionGate}). */
  readonly gate: AdmissionGate | undefined;
  declare readonly [kBulwarkError]: true;

  constructor(code: BulwarkErrorCode, message: string, options: BulwarkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.gate = options.gate;
  }
}
// The brand lives on the prototype: one property per class, not one per error.
Object.defineProperty(BulwarkError.prototype, kBulwarkError, { value: true });

/**
 * True when `error` is a Bulwark error, optionally with the given `code`. Works across duplicated package copies.
 *
 * @example
 * ```ts
 * if (isBulwarkError(err, 'BULWARK_CIRCUIT_OPEN')) res.setHeader('retry-after', Math.ceil(err.retryAfterMs! / 1000));
 * ```
 */
export function isBulwarkError(error: unknown, code?: BulwarkErrorCode): error is BulwarkError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [kBulwarkError]?: unknown })[kBulwarkError] === true &&
    (code === undefined || (error as BulwarkError).code === code)
  );
}

/**
 * A `timeout` policy's deadline passed before the function settled.
 *
 * @example
 * ```ts
 * await timeout(100).execute(({ signal }) => fetch(url, { signal })).catch((e) => {
 *   if (isTimeoutError(e)) console.log(`gave up after ${e.timeoutMs} ms`);
 * });
 * ```
 */
export class TimeoutError extends BulwarkError {
  declare readonly code: 'BULWARK_TIMEOUT';
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, options: BulwarkErrorOptions = {}) {
    super('BULWARK_TIMEOUT', `Operation timed out after ${timeoutMs} ms`, options);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * True when `error` is a {@link TimeoutError} (from any copy of `@bulwark/core`).
 *
 * @example
 * ```ts
 * if (isTimeoutError(err)) metrics.timeouts.inc();
 * ```
 */
export function isTimeoutError(error: unknown): error is TimeoutError {
  return isBulwarkError(error, 'BULWARK_TIMEOUT');
}

/** One problem found in an options object. */
export interface ConfigIssue {
  /** Dotted path of the bad field, e.g. `window.size`; empty for the options object itself. */
  readonly field: string;
  /** What is wrong with it. */
  readonly message: string;
}

/**
 * Options given to a Bulwark factory were invalid. Thrown at construction, never per call.
 *
 * @example
 * ```ts
 * try { timeout(-1) } catch (e) {
 *   if (isBulwarkConfigError(e)) console.error(e.field, e.issues); // 'ms', [...]
 * }
 * ```
 */
export class BulwarkConfigError extends BulwarkError {
  declare readonly code: 'BULWARK_INVALID_CONFIG';
  /** Every problem found, in order. */
  readonly issues: readonly ConfigIssue[];
  /** The first bad field (dotted path). */
  readonly field: string;

  constructor(where: string, issues: readonly ConfigIssue[]) {
    const described = issues.map((i) => (i.field ? `"${i.field}": ${i.message}` : i.message)).join('; ');
    super('BULWARK_INVALID_CONFIG', `${where}: invalid options: ${described}`);
    this.issues = issues;
    this.field = issues[0]?.field ?? '';
  }
}

/**
 * True when `error` is a {@link BulwarkConfigError}.
 *
 * @example
 * ```ts
 * expect(() => timeout(0)).toThrow(expect.objectContaining({ code: 'BULWARK_INVALID_CONFIG' }));
 * isBulwarkConfigError(caught); // true
 * ```
 */
export function isBulwarkConfigError(error: unknown): error is BulwarkConfigError {
  return isBulwarkError(error, 'BULWARK_INVALID_CONFIG');
}
