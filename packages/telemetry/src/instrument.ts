import diagnosticsChannel from 'node:diagnostics_channel';
import { trace, type Tracer } from '@opentelemetry/api';
import { register as globalRegistry, type Registry } from 'prom-client';
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
}

/** A running instrumentation; `dispose()` unsubscribes it. */
export interface Instrumentation {
  /** The metrics, when a registry is in use. */
  readonly metrics: BulwarkMetrics | undefined;
  /** Stops listening. The metrics stay registered (a scrape keeps their last values). */
  dispose(): void;
}

const packages = ['core', 'retry', 'circuit-breaker', 'bulkhead', 'rate-limiter', 'health'] as const;

const optionsSchema = z
  .object({
    registry: z.union([z.literal(false), registrySchema]).optional(),
    tracer: z
      .union([z.literal(false), methodsSchema<Tracer>(['startSpan'], 'expected an OpenTelemetry Tracer')])
      .optional(),
    logger: methodsSchema<TelemetryLogger>(
      ['debug', 'info', 'warn', 'error'],
      'expected a logger with debug, info, warn and error methods (pino)',
    ).optional(),
    include: z.array(z.enum(packages)).optional(),
  })
  .strict();

/**
 * Wires every Bulwark primitive to Prometheus metrics, OpenTelemetry span events and structured logs, by subscribing
 * to the `bulwark:*` diagnostics channels. Primitives publish only while someone subscribes, so before this call
 * (and after `dispose()`) they pay nothing.
 *
 * @throws {@link BulwarkConfigError} for bad options.
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
  const registry = o.registry === undefined ? globalRegistry : o.registry;
  const metrics = registry === false ? undefined : bulwarkMetrics(registry);
  const tracer = o.tracer === undefined ? trace.getTracer('bulwark') : o.tracer === false ? undefined : o.tracer;
  const sinks: TelemetrySinks = {
    metrics,
    tracer,
    logger: o.logger,
    state: { checkStatus: new Map(), shutdownSpan: undefined },
  };
  const include = new Set<TelemetryPackage>(o.include ?? packages);
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
