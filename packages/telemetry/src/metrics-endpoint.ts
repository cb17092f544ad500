import { register as globalRegistry, type Registry } from 'prom-client';
import { z } from 'zod';
import { functionSchema, parseOptions } from '@bulwark/core/internal';
import { authorizeEndpoints, type Endpoint, type Reply, type RequestView } from '@bulwark/http';
import { registrySchema } from './registry-schema.js';

/** Options for {@link metricsEndpoint} (and `metricsRoute()` in the framework entries). */
export interface MetricsEndpointOptions {
  /** The registry to expose. Default: prom-client's global registry. */
  registry?: Registry;
  /** Default `/metrics`. */
  path?: string;
  /** Who may scrape; refused requests get 403. */
  authorize?: (req: RequestView) => boolean | Promise<boolean>;
}

const optionsSchema = z
  .object({
    registry: registrySchema.default(() => globalRegistry),
    path: z
      .string()
      .regex(/^\/\S*$/, { message: 'must start with "/"' })
      .default('/metrics'),
    authorize: functionSchema<NonNullable<MetricsEndpointOptions['authorize']>>().optional(),
  })
  .strict();

/**
 * The Prometheus text exposition of a registry as a neutral endpoint. Mount it with `metricsRoute()` from
 * `@bulwark/telemetry/express`, `/fastify` or `/koa`.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * import { toExpressEndpoints } from '@bulwark/http/express';
 * app.use(toExpressEndpoints([metricsEndpoint({ registry })]));
 * ```
 */
export function metricsEndpoint(options: MetricsEndpointOptions = {}): Endpoint {
  const o = parseOptions(optionsSchema, options, 'metricsEndpoint()');
  const registry = o.registry;
  const headers = { 'content-type': registry.contentType, 'cache-control': 'no-store' };
  const scrape = async (): Promise<Reply> => ({ status: 200, headers, body: await registry.metrics() });
  const endpoint: Endpoint = { path: o.path, handler: scrape };
  const authorize = o.authorize;
  return authorize === undefined ? endpoint : authorizeEndpoints([endpoint], (req) => authorize(req))[0]!;
}
