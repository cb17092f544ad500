import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { PolicyCallMetrics } from './call-metrics.js';

/** Buckets for policy and check durations, in seconds: 0.5 ms to 10 s. */
export const durationBuckets: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Every metric `instrument()` keeps. Labels carry configured names only: never keys, IPs or paths. */
export interface BulwarkMetrics {
  /** `bulwark_policy_calls_total` and `bulwark_policy_duration_seconds` (kept outside prom-client: hot). */
  readonly policyCalls: PolicyCallMetrics;
  readonly circuitState: Gauge<'name' | 'state'>;
  readonly circuitTransitions: Counter<'name' | 'from' | 'to'>;
  readonly retryAttempts: Counter<'name'>;
  readonly retryGiveUps: Counter<'name' | 'reason'>;
  readonly retryBudgetExhausted: Counter<'name'>;
  readonly bulkheadActive: Gauge<'name'>;
  readonly bulkheadQueued: Gauge<'name'>;
  readonly bulkheadLimit: Gauge<'name'>;
  readonly bulkheadRejections: Counter<'name' | 'reason'>;
  readonly timeouts: Counter<'name'>;
  readonly fallbacks: Counter<'name'>;
  readonly rateLimitDecisions: Counter<'name' | 'decision'>;
  readonly rateLimitStoreErrors: Counter<'operation' | 'decided_by'>;
  readonly healthCheckStatus: Gauge<'name'>;
  readonly healthCheckDuration: Histogram<'name'>;
  readonly flagEvaluations: Counter<'name' | 'flag' | 'variant' | 'reason'>;
  readonly flagDocumentErrors: Counter<'name'>;
}

/**
 * Gets a metric from the registry or registers it: a second `instrument()` on the same registry (a test, a hot
 * reload) reuses the series instead of failing on a duplicate name.
 */
function reuse<M>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** Creates (or finds) Bulwark's metrics in a registry. */
export function bulwarkMetrics(registry: Registry): BulwarkMetrics {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    reuse(registry, name, () => new Counter<L>({ name, help, labelNames, registers }));
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    reuse(registry, name, () => new Gauge<L>({ name, help, labelNames, registers }));
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    reuse(registry, name, () => new Histogram<L>({ name, help, labelNames, buckets: [...durationBuckets], registers }));
  return {
    policyCalls: PolicyCallMetrics.in(registry, durationBuckets),
    circuitState: gauge('bulwark_circuit_state', 'Circuit breaker state: 1 for the current state, 0 for the others.', [
      'name',
      'state',
    ]),
    circuitTransitions: counter('bulwark_circuit_transitions_total', 'Circuit breaker state transitions.', [
      'name',
      'from',
      'to',
    ]),
    retryAttempts: counter('bulwark_retry_attempts_total', 'Retries (attempts after the first).', ['name']),
    retryGiveUps: counter('bulwark_retry_give_ups_total', 'Failed outcomes a retry policy surfaced, by reason.', [
      'name',
      'reason',
    ]),
    retryBudgetExhausted: counter(
      'bulwark_retry_budget_exhausted_total',
      'Retries refused by an exhausted retry budget.',
      ['name'],
    ),
    bulkheadActive: gauge('bulwark_bulkhead_active', 'Calls running in a bulkhead.', ['name']),
    bulkheadQueued: gauge('bulwark_bulkhead_queued', 'Calls waiting for a bulkhead slot.', ['name']),
    bulkheadLimit: gauge('bulwark_bulkhead_limit', 'Current concurrency limit of an adaptive bulkhead.', ['name']),
    bulkheadRejections: counter(
      'bulwark_bulkhead_rejections_total',
      'Calls a bulkhead turned away, by reason (full, queue-timeout).',
      ['name', 'reason'],
    ),
    timeouts: counter('bulwark_timeouts_total', 'Calls a timeout policy gave up on.', ['name']),
    fallbacks: counter('bulwark_fallbacks_total', 'Calls answered by a fallback.', ['name']),
    rateLimitDecisions: counter('bulwark_ratelimit_decisions_total', 'Rate-limit decisions, allowed or limited.', [
      'name',
      'decision',
    ]),
    rateLimitStoreErrors: counter(
      'bulwark_ratelimit_store_errors_total',
      'Failed rate-limit store calls, by how they were answered.',
      ['operation', 'decided_by'],
    ),
    healthCheckStatus: gauge('bulwark_health_check_status', 'Latest health check result: 1 pass, 0.5 warn, 0 fail.', [
      'name',
    ]),
    healthCheckDuration: histogram('bulwark_health_check_duration_seconds', 'Health check run time.', ['name']),
    flagEvaluations: counter(
      'bulwark_flag_evaluations_total',
      'Feature flag evaluations, by flag, variant served and reason.',
      ['name', 'flag', 'variant', 'reason'],
    ),
    flagDocumentErrors: counter(
      'bulwark_flag_document_errors_total',
      'Flag documents that could not be read or were refused (the last good one stayed in force).',
      ['name'],
    ),
  };
}
