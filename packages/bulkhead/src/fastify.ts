import type { FastifyPluginCallback } from 'fastify';
import { toFastify, type FastifyGuardHook } from '@bulwark/http/fastify';
import { loadSheddingGuard, type LoadSheddingOptions } from './load-shedding.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: `loadShedding()` never sheds this route. */
    loadShedding?: false;
  }
}

/**
 * Fastify plugin that sheds requests beyond a bulkhead's or adaptive limit's capacity with 503. Bulwark's own
 * endpoints (probes, `/metrics`) and routes with `config: { loadShedding: false }` are never shed.
 *
 * @example
 * ```ts
 * import { bulkhead } from '@bulwark/bulkhead';
 * import { loadShedding } from '@bulwark/bulkhead/fastify';
 * await app.register(loadShedding({ limiter: bulkhead({ maxConcurrent: 100 }) }));
 * ```
 */
export const loadShedding = ({
  hook,
  ...options
}: LoadSheddingOptions & { hook?: FastifyGuardHook }): FastifyPluginCallback =>
  toFastify(loadSheddingGuard(options), { name: '@bulwark/bulkhead', hook, routeConfigKey: 'loadShedding' });
