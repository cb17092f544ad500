import type { FastifyPluginCallback } from 'fastify';
import { toFastify, type FastifyGuardHook } from '@bulwark/http/fastify';
import { loadSheddingGuard, type LoadSheddingOptions } from './load-shedding.js';

/**
 * Fastify plugin that sheds requests beyond a bulkhead's or adaptive limit's capacity with 503.
 *
 * @example
 * ```ts
 * import { bulkhead } from '@bulwark/bulkhead';
 * import { loadShedding } from '@bulwark/bulkhead/fastify';
 * await app.register(loadShedding({ limiter: bulkhead({ maxConcurrent: 100 }) }));
 * ```
 */
export const loadShedding = (options: LoadSheddingOptions & { hook?: FastifyGuardHook }): FastifyPluginCallback =>
  toFastify(loadSheddingGuard(options), { name: '@bulwark/bulkhead', hook: options.hook });
