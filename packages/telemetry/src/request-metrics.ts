import { performance } from 'node:perf_hooks';
import { Histogram, register as globalRegistry, type Registry } from 'prom-client';
import { z } from 'zod';
import { parseOptions } from '@bulwark/core/internal';
import type { Guard } from '@bulwark/http';
import { registrySchema } from './registry-schema.js';

/** Options for {@link requestMetricsGuard} (and `requestMetrics()` in the framework entries). */
export interface RequestMetricsOptions {
  /** Default: prom-client's global registry. */
  registry?: Registry;
  /** Histogram buckets in seconds. Default: OpenTelemetry's for `http.server.request.duration`. */
  buckets?: readonly number[];
}

/** OpenTelemetry's advised buckets for `http.server.request.duration`, in seconds. */
export const httpDurationBuckets: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

// OpenTelemetry semantic conventions: any other method is reported as _OTHER, so a client cannot invent series.
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

const optionsSchema = z
  .object({
    registry: registrySchema.default(() => globalRegistry),
    buckets: z
      .array(z.number().positive())
      .min(1)
      .default(() => [...httpDurationBuckets]),
  })
  .strict();

type Labels = 'http_request_method' | 'http_route' | 'http_response_status_code';
const metricName = 'http_server_request_duration_seconds';

/**
 * Request duration with OpenTelemetry's `http.server.request.duration` semantics, as the Prometheus histogram
 * `http_server_request_duration_seconds{http_request_method, http_route, http_response_status_code}`. The route is
 * the matched template (`/users/:id`), never the raw URL; requests no route matched have an empty `http_route`, and
 * unknown methods are `_OTHER`, so series stay bounded whatever clients send.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * import { toExpress } from '@bulwark/http/express';
 * app.use(toExpress(requestMetricsGuard()));
 * ```
 */
export function requestMetricsGuard(options: RequestMetricsOptions = {}): Guard {
  const o = parseOptions(optionsSchema, options, 'requestMetrics()');
  const registry = o.registry;
  const histogram =
    (registry.getSingleMetric(metricName) as Histogram<Labels> | undefined) ??
    new Histogram<Labels>({
      name: metricName,
      help: 'Duration of HTTP server requests (OpenTelemetry http.server.request.duration).',
      labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
      buckets: o.buckets,
      registers: [registry],
    });
  return (req) => {
    const started = performance.now();
    return {
      kind: 'next',
      after: (status) => {
        const method = req.method;
        histogram.observe(
          {
            http_request_method: knownMethods.has(method) ? method : '_OTHER',
            http_route: req.route ?? '',
            http_response_status_code: status,
          },
          (performance.now() - started) / 1000,
        );
      },
    };
  };
}
