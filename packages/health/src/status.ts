/** A check's or a service's health, as the health-check draft spells it. */
export type HealthStatus = 'pass' | 'warn' | 'fail';

const aliases: Readonly<Record<string, HealthStatus>> = {
  pass: 'pass',
  ok: 'pass',
  up: 'pass',
  warn: 'warn',
  fail: 'fail',
  error: 'fail',
  down: 'fail',
};

/**
 * Reads a status the way draft-inadarei-api-health-check-06 allows it to be written: case-insensitive, with the
 * aliases `ok`/`up` for `pass` and `error`/`down` for `fail`. Anything else is `undefined`.
 *
 * @example
 * ```ts
 * normalizeStatus('UP'); // 'pass'
 * normalizeStatus('degraded'); // undefined
 * ```
 */
export function normalizeStatus(value: unknown): HealthStatus | undefined {
  return typeof value === 'string' ? aliases[value.toLowerCase()] : undefined;
}

/** What the aggregate needs to know about one check's result. */
export interface StatusInput {
  readonly status: HealthStatus;
  readonly critical: boolean;
}

/**
 * The overall status of a set of check results: `fail` when a critical check fails; otherwise `warn` when any
 * check warns or a non-critical check fails; otherwise `pass` (also for no checks at all).
 *
 * @example
 * ```ts
 * aggregateStatus([{ status: 'pass', critical: true }, { status: 'fail', critical: false }]); // 'warn'
 * ```
 */
export function aggregateStatus(results: Iterable<StatusInput>): HealthStatus {
  let status: HealthStatus = 'pass';
  for (const r of results) {
    if (r.status === 'fail' && r.critical) return 'fail';
    if (r.status !== 'pass') status = 'warn';
  }
  return status;
}
