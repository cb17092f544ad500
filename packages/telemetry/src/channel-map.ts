import { trace, type Span, type Tracer } from '@opentelemetry/api';
import type { BulkheadOccupancyEvent, BulkheadRejectedEvent, LimitChangeEvent } from '@bulwark/bulkhead';
import type { StateChangeEvent } from '@bulwark/circuit-breaker';
import type { FallbackEvent, PolicyCallEvent, TimeoutEvent } from '@bulwark/core';
import type { FlagEvaluationEvent, FlagsErrorEvent } from '@bulwark/feature-flags';
import type { CheckEvent, ShutdownEvent } from '@bulwark/health';
import type { RateLimitDecisionEvent } from '@bulwark/rate-limiter';
import type { StoreErrorEvent } from '@bulwark/rate-limiter/redis';
import type { GiveUpEvent, RetryEvent } from '@bulwark/retry';
import type { BulwarkMetrics } from './metrics.js';
import type { TelemetryLogger } from './logger.js';

/**
 * What each Bulwark channel means to metrics, traces and logs — the one place a new package is wired in: add its
 * channels here (and its name to {@link TelemetryPackage}). Payloads use each package's exported event type, so a
 * renamed field fails to compile here; the imports are types only, so this package needs none of the others at run
 * time.
 */

/** The packages whose channels {@link instrument} subscribes to. */
export type TelemetryPackage =
  'core' | 'retry' | 'circuit-breaker' | 'bulkhead' | 'rate-limiter' | 'health' | 'feature-flags';

/** Where a channel's events go; each sink is absent when not configured. */
export interface TelemetrySinks {
  readonly metrics: BulwarkMetrics | undefined;
  readonly tracer: Tracer | undefined;
  readonly logger: TelemetryLogger | undefined;
  /** Per-instrumentation memory (last health status per check, the shutdown span). */
  readonly state: { readonly checkStatus: Map<string, string>; shutdownSpan: Span | undefined };
}

/** One channel's handler. */
export interface ChannelHandler {
  readonly package: TelemetryPackage;
  /** The full channel name, `bulwark:<package>:<event>`. */
  readonly channel: string;
  /** Turns one event into metrics, span events and log lines. */
  readonly handle: (event: never, sinks: TelemetrySinks) => void;
}

/** The active span when traces are on and it records (an SDK is registered, the span sampled); else nothing. */
function recordingSpan(sinks: TelemetrySinks): Span | undefined {
  if (sinks.tracer === undefined) return undefined;
  const span = trace.getActiveSpan();
  return span?.isRecording() === true ? span : undefined;
}

const label = (name: string | undefined) => name ?? '';
const errorName = (error: unknown) => (error instanceof Error ? error.name : typeof error);
const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

const on = <E>(
  pkg: TelemetryPackage,
  event: string,
  handle: (event: E, sinks: TelemetrySinks) => void,
): ChannelHandler => ({
  package: pkg,
  channel: `bulwark:${pkg}:${event}`,
  handle,
});

const circuitStates = ['closed', 'open', 'half-open', 'isolated', 'disabled'] as const;
const statusValue: Readonly<Record<string, number>> = { pass: 1, warn: 0.5, fail: 0 };

/** Every Bulwark channel `instrument()` subscribes to, with what it records: one list, so a package's events and their metrics cannot drift apart. */
export const channelHandlers: readonly ChannelHandler[] = [
  // ---- core ----
  on<PolicyCallEvent>('core', 'call', (e, sinks) => {
    sinks.metrics?.policyCalls.record(e.source, e.policy, label(e.name), e.outcome, e.durationMs / 1000);
  }),
  on<TimeoutEvent>('core', 'timeout', (e, sinks) => {
    const { metrics, logger } = sinks;
    metrics?.timeouts.inc({ name: label(e.name) });
    recordingSpan(sinks)?.addEvent('bulwark.timeout', {
      'bulwark.name': label(e.name),
      'bulwark.timeout_ms': e.timeoutMs,
    });
    logger?.debug({ policy: 'timeout', name: e.name, timeoutMs: e.timeoutMs }, 'bulwark: call timed out');
  }),
  on<FallbackEvent>('core', 'fallback', (e, sinks) => {
    const { metrics, logger } = sinks;
    metrics?.fallbacks.inc({ name: label(e.name) });
    recordingSpan(sinks)?.addEvent('bulwark.fallback', { 'bulwark.name': label(e.name) });
    logger?.debug({ policy: 'fallback', name: e.name }, 'bulwark: fallback answered');
  }),

  // ---- retry ----
  on<RetryEvent>('retry', 'retry', (e, sinks) => {
    const { metrics, logger } = sinks;
    metrics?.retryAttempts.inc({ name: label(e.name) });
    recordingSpan(sinks)?.addEvent('bulwark.retry', {
      'bulwark.name': label(e.name),
      'bulwark.retry.attempt': e.attempt,
      'bulwark.retry.delay_ms': e.delayMs,
      'bulwark.retry.delay_source': e.delaySource,
      ...(e.outcome.kind === 'error' ? { 'error.type': errorName(e.outcome.error) } : {}),
    });
    logger?.debug({ policy: 'retry', name: e.name, attempt: e.attempt, delayMs: e.delayMs }, 'bulwark: retrying');
  }),
  on<GiveUpEvent>('retry', 'give-up', (e, sinks) => {
    const { metrics, logger } = sinks;
    metrics?.retryGiveUps.inc({ name: label(e.name), reason: e.reason });
    recordingSpan(sinks)?.addEvent('bulwark.retry.give_up', {
      'bulwark.name': label(e.name),
      'bulwark.retry.reason': e.reason,
      'bulwark.retry.attempts': e.attempts,
    });
    if (e.reason === 'budget') {
      metrics?.retryBudgetExhausted.inc({ name: label(e.name) });
      logger?.warn({ policy: 'retry', name: e.name, attempts: e.attempts }, 'bulwark: retry budget exhausted');
    }
  }),

  // ---- circuit-breaker ----
  on<StateChangeEvent>('circuit-breaker', 'state-change', (e, sinks) => {
    const { metrics, logger } = sinks;
    if (metrics !== undefined) {
      for (const state of circuitStates)
        metrics.circuitState.set({ name: label(e.name), state }, state === e.to ? 1 : 0);
      metrics.circuitTransitions.inc({ name: label(e.name), from: e.from, to: e.to });
    }
    recordingSpan(sinks)?.addEvent(`bulwark.circuit.${e.to}`, {
      'bulwark.name': label(e.name),
      'bulwark.circuit.from': e.from,
    });
    const fields = { breaker: e.name, from: e.from, to: e.to, openMs: e.openMs };
    if (e.to === 'open' || e.to === 'isolated') logger?.warn(fields, `bulwark: circuit ${e.to}`);
    else logger?.info(fields, `bulwark: circuit ${e.to}`);
  }),

  // ---- bulkhead ----
  on<BulkheadRejectedEvent>('bulkhead', 'rejected', (e, sinks) => {
    const { metrics, logger } = sinks;
    metrics?.bulkheadRejections.inc({ name: label(e.name), reason: e.reason });
    recordingSpan(sinks)?.addEvent('bulwark.bulkhead.rejected', {
      'bulwark.name': label(e.name),
      'bulwark.bulkhead.reason': e.reason,
    });
    logger?.debug(
      { bulkhead: e.name, reason: e.reason, active: e.active, queued: e.queued },
      'bulwark: bulkhead rejected a call',
    );
  }),
  on<BulkheadOccupancyEvent>('bulkhead', 'occupancy', (e, sinks) => {
    const { metrics } = sinks;
    metrics?.bulkheadActive.set({ name: label(e.name) }, e.active);
    metrics?.bulkheadQueued.set({ name: label(e.name) }, e.queued);
  }),
  on<LimitChangeEvent>('bulkhead', 'limit', (e, sinks) => {
    const { metrics, logger } = sinks;
    metrics?.bulkheadLimit.set({ name: label(e.name) }, e.to);
    logger?.debug({ bulkhead: e.name, from: e.from, to: e.to }, 'bulwark: concurrency limit changed');
  }),

  // ---- rate-limiter ----
  on<RateLimitDecisionEvent>('rate-limiter', 'decision', (e, sinks) => {
    const { metrics } = sinks;
    metrics?.rateLimitDecisions.inc({ name: e.name, decision: e.allowed ? 'allowed' : 'limited' });
    const span = recordingSpan(sinks);
    if (span !== undefined) {
      span.setAttribute('bulwark.ratelimit.allowed', e.allowed);
      span.setAttribute('bulwark.name', e.name);
    }
  }),
  on<StoreErrorEvent>('rate-limiter', 'store-error', (e, sinks) => {
    const { metrics, logger } = sinks;
    metrics?.rateLimitStoreErrors.inc({ operation: e.operation, decided_by: e.decidedBy });
    recordingSpan(sinks)?.addEvent('bulwark.ratelimit.store_error', {
      'bulwark.ratelimit.decided_by': e.decidedBy,
      'error.type': errorName(e.error),
    });
    logger?.error(
      { prefix: e.prefix, operation: e.operation, decidedBy: e.decidedBy, err: errorMessage(e.error) },
      'bulwark: rate-limit store failed',
    );
  }),

  // ---- feature-flags ----
  on<FlagEvaluationEvent>('feature-flags', 'evaluation', (e, sinks) => {
    // A sampled event stands for `weight` evaluations.
    sinks.metrics?.flagEvaluations.inc(
      { name: e.name, flag: e.flag, variant: e.variant ?? '', reason: e.reason },
      e.weight,
    );
  }),
  on<FlagsErrorEvent>('feature-flags', 'error', (e, sinks) => {
    sinks.metrics?.flagDocumentErrors.inc({ name: e.name });
    sinks.logger?.warn(
      { name: e.name, err: errorMessage(e.error) },
      'bulwark: flag document refused; the last good one stays',
    );
  }),

  // ---- health ----
  on<CheckEvent>('health', 'check', (e, sinks) => {
    sinks.metrics?.healthCheckStatus.set({ name: e.name }, statusValue[e.status] ?? 0);
    sinks.metrics?.healthCheckDuration.observe({ name: e.name }, e.durationMs / 1000);
    recordingSpan(sinks)?.addEvent('bulwark.health.check', {
      'bulwark.name': e.name,
      'bulwark.health.status': e.status,
    });
    const before = sinks.state.checkStatus.get(e.name);
    sinks.state.checkStatus.set(e.name, e.status);
    if (before === e.status || (before === undefined && e.status === 'pass')) return;
    // Only changes are logged (the check output is left out: it may name hosts or users).
    const fields = { name: e.name, from: before, to: e.status, critical: e.critical, timedOut: e.timedOut };
    if (e.status === 'pass') sinks.logger?.info(fields, 'bulwark: health check recovered');
    else sinks.logger?.warn(fields, `bulwark: health check ${e.status}`);
  }),
  on<ShutdownEvent>('health', 'shutdown', (e, sinks) => {
    const fields = {
      step: e.step,
      name: e.name,
      durationMs: e.durationMs,
      ok: e.ok,
      code: e.code,
      err: e.error === undefined ? undefined : errorMessage(e.error),
    };
    if (e.ok === false) sinks.logger?.warn(fields, `bulwark: shutdown ${e.step} did not finish in time or failed`);
    else sinks.logger?.info(fields, `bulwark: shutdown ${e.step}`);
    // Shutdown has no request around it: it gets a span of its own, one event per step.
    const { state, tracer } = sinks;
    if (e.step === 'begin')
      state.shutdownSpan = tracer?.startSpan('bulwark.shutdown', {
        attributes: { 'bulwark.shutdown.reason': e.name ?? '' },
      });
    state.shutdownSpan?.addEvent(`bulwark.shutdown.${e.step}`, {
      ...(e.name === undefined ? {} : { 'bulwark.name': e.name }),
      ...(e.ok === undefined ? {} : { 'bulwark.ok': e.ok }),
      ...(e.durationMs === undefined ? {} : { 'bulwark.duration_ms': e.durationMs }),
    });
    if (e.step === 'exit') {
      state.shutdownSpan?.setAttribute('bulwark.shutdown.exit_code', e.code ?? 0);
      state.shutdownSpan?.end();
      state.shutdownSpan = undefined;
    }
  }),
];
