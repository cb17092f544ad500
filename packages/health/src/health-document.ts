import type { CheckOutcome } from './check-runner.js';
import type { Health, HealthReport } from './health.js';
import type { HealthStatus } from './status.js';

/** One element of a `checks` entry in the health document. */
export interface HealthCheckEntry {
  componentId?: string;
  componentType: string;
  observedValue?: unknown;
  observedUnit?: string;
  status: HealthStatus;
  affectedEndpoints?: readonly string[];
  time: string;
  output?: string;
  links?: Readonly<Record<string, string>>;
}

/** The `application/health+json` document (draft-inadarei-api-health-check-06). */
export interface HealthDocument {
  status: HealthStatus;
  version?: string;
  releaseId?: string;
  serviceId?: string;
  description?: string;
  output?: string;
  checks: Record<string, HealthCheckEntry[]>;
}

/** Text shown for a failure reason that is withheld. */
export const WITHHELD = 'reason withheld';

/**
 * The failure reason an endpoint may show: `timeout` always (it says nothing about the dependency), other reasons
 * only with `exposeDetails`, since error messages can carry hosts, users or queries.
 */
export function publicOutput(outcome: CheckOutcome, exposeDetails: boolean): string | undefined {
  if (outcome.status === 'pass') return undefined;
  if (outcome.timedOut || exposeDetails) return outcome.output;
  return outcome.output === undefined ? undefined : WITHHELD;
}

/**
 * Builds the health document from a report: checks keyed `name:measurement` (or `name`), each an array with one
 * element (this node). Optional fields are left out when unknown; `output` is left out on pass, as the draft asks.
 *
 * @example
 * ```ts
 * const doc = toHealthDocument(health, await health.report('all'), { exposeDetails: false });
 * res.type('application/health+json').status(doc.status === 'fail' ? 503 : 200).send(doc);
 * ```
 */
export function toHealthDocument(
  health: Health,
  report: HealthReport,
  options: { exposeDetails: boolean },
): HealthDocument {
  const doc: Omit<HealthDocument, 'checks'> = { status: report.status };
  const meta = health.meta;
  if (meta.version !== undefined) doc.version = meta.version;
  if (meta.releaseId !== undefined) doc.releaseId = meta.releaseId;
  if (meta.serviceId !== undefined) doc.serviceId = meta.serviceId;
  if (meta.description !== undefined) doc.description = meta.description;
  if (report.shuttingDown) doc.output = 'shutting down';
  else if (report.notReady) doc.output = health.notReadyReason ?? 'not ready';
  const checks: Record<string, HealthCheckEntry[]> = {};
  for (const outcome of report.results) {
    const check = health.describe(outcome.name)!;
    const entry: HealthCheckEntry = {
      componentType: check.componentType,
      status: outcome.status,
      time: outcome.time,
    };
    if (check.componentId !== undefined) entry.componentId = check.componentId;
    if (outcome.observedValue !== undefined) entry.observedValue = outcome.observedValue;
    if (outcome.observedUnit !== undefined) entry.observedUnit = outcome.observedUnit;
    if (outcome.status !== 'pass' && outcome.affectedEndpoints !== undefined)
      entry.affectedEndpoints = outcome.affectedEndpoints;
    const output = publicOutput(outcome, options.exposeDetails);
    if (output !== undefined) entry.output = output;
    if (outcome.links !== undefined) entry.links = outcome.links;
    const key = check.measurement === undefined ? check.name : `${check.name}:${check.measurement}`;
    checks[key] = [entry];
  }
  return { ...doc, checks };
}
