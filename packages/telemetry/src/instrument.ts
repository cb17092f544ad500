import diagnosticsChannel from 'node:diagnostics_channel';
import { trace, type Tracer } from '@opentelemetry/api';
import {
  collectDefaultMetrics,
  register as globalRegistry,
  type DefaultMetricsCollectorConfiguration,
  type Registry,
  type RegistryContentType,
} from 'prom-client';
import { z } from 'zod';
import { methodsSchema, parseOptions } from '@bulwark/core/internal';
import { channelHandlers, type TelemetryPackage, type TelemetrySinks } from './channel-map.js';
import type { TelemetryLogger } from './logger.js';
import { bulwarkMetrics, type BulwarkMetrics } from './metrics.js';
import { registrySchema } from './registry-schema.js';

/** Options for {@link instrument}. */
export interface InstrumentOptions {
  /** Where metrics go. Default: prom-client's global registry. `false`: no metrics. */
  registry?: Registry | false;
  /**
   * For the spans Bulwark starts itself (shutdown). Span events and attributes go on the active span whatever
   * this is. Default: `trace.getTracer('bulwark')` (a no-op until an OpenTelemetry SDK is registered). `false`: no
   * traces at all.
   */
  tracer?: Tracer | false;
  /** A pino logger (or anything with `debug`/`info`/`warn`/`error(fields, message)`). Default: no logs. */
  logger?: TelemetryLogger;
  /** Only these packages' events. Default: all. */
  include?: readonly TelemetryPackage[];
  /**
   * Also collect prom-client's default Node and process metrics (CPU, memory, event-loop lag, GC, handles) on the
   * same registry: `true`, or prom-client's `collectDefaultMetrics` options (`prefix`, `labels`,
   * `eventLoopMonitoringPrecision`, `gcDurationBuckets`). Collected once per registry (a second `instrument()`
   * reuses them). Default `false`.
   */
  defaultMetrics?: boolean | DefaultMetricsOptions;
}

/** The `collectDefaultMetrics` options `instrument({ defaultMetrics })` passes on (its registry is the one in use). */
export type DefaultMetricsOptions = Omit<DefaultMetricsCollectorConfiguration<RegistryContentType>, 'register'>;

/** A running instrumentation; `dispose()` unsubscribes it. */
export interface Instrumentation {
  /** The metrics, when a registry is in use. */
  readonly metrics: BulwarkMetrics | undefined;
  /** Stops listening. The metrics stay registered (a scrape keeps their last values). */
  dispose(): void;
}

const packages = ['core', 'retry', 'circuit-breaker', 'bulkhead', 'rate-limiter', 'health', 'feature-flags'] as const;

const optionsSchema = z
  .object({
    registry: z.union([z.literal(false), registrySchema]).default(() => globalRegistry),
    tracer: z
      .union([z.literal(false), methodsSchema<Tracer>(['startSpan'], 'expected an OpenTelemetry Tracer')])
      .default(() => trace.getTracer('bulwark')),
    logger: methodsSchema<TelemetryLogger>(
      ['debug', 'info', 'warn', 'error'],
      'expected a logger with debug, info, warn and error methods (pino)',
    ).optional(),
    include: z.array(z.enum(packages)).default([...packages]),
    defaultMetrics: z
      .union([
        z.boolean(),
        z
          .object({
            prefix: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, { message: 'must be a Prometheus name prefix' }),
            labels: z.record(z.string(), z.string()),
            eventLoopMonitoringPrecision: z.number().int().min(1),
            gcDurationBuckets: z.array(z.number().positive()),
          })
          .partial()
          .strict(),
      ])
      .default(false),
  })
  .strict()
  .refine((o) => o.defaultMetrics === false || o.registry !== false, {
    message: 'default metrics need a registry (registry is false)',
    path: ['defaultMetrics'],
  });

/** Collects prom-client's default metrics on `registry`, unless an earlier call already did. */
function collectDefaults(registry: Registry, config: true | DefaultMetricsOptions): void {
  const options = config === true ? {} : config;
  if (registry.getSingleMetric(`${options.prefix ?? ''}process_cpu_user_seconds_total`) !== undefined) return;
  collectDefaultMetrics({ ...options, register: registry });
}

/**
 * Wires every Bulwark primitive to Prometheus metrics, OpenTelemetry span events and structured logs, by subscribing
 * to the `bulwark:*` diagnostics channels. Primitives publish only while someone subscribes, so before this call
 * (and after `dispose()`) they pay nothing.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * import { instrument } from '@bulwark/telemetry';
 * import { metricsRoute } from '@bulwark/telemetry/express';
 * import pino from 'pino';
 * const telemetry = instrument({ logger: pino() });
 * app.get('/metrics', metricsRoute());
 * process.on('beforeExit', () => telemetry.dispose());
 * ```
 */
export function instrument(options: InstrumentOptions = {}): Instrumentation {
  const o = parseOptions(optionsSchema, options, 'instrument()');
  const registry = o.registry;
  const metrics = registry === false ? undefined : bulwarkMetrics(registry);
  if (registry !== false && o.defaultMetrics !== false) collectDefaults(registry, o.defaultMetrics);
  const tracer = o.tracer === false ? undefined : o.tracer;
  const sinks: TelemetrySinks = {
    metrics,
    tracer,
    logger: o.logger,
    state: { checkStatus: new Map(), shutdownSpan: undefined },
  };
  const include = new Set<TelemetryPackage>(o.include);
  const subscriptions: [string, (message: unknown) => void][] = [];
  for (const handler of channelHandlers) {
    if (!include.has(handler.package)) continue;
    const listener = (message: unknown) => handler.handle(message as never, sinks);
    diagnosticsChannel.subscribe(handler.channel, listener);
    subscriptions.push([handler.channel, listener]);
  }
  let disposed = false;
  return {
    metrics,
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const [channel, listener] of subscriptions) diagnosticsChannel.unsubscribe(channel, listener);
    },
  };
}
