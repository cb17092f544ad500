import type { Middleware } from 'koa';
import { toKoa } from '@bulwark/http/koa';
import { loadSheddingGuard, type LoadSheddingOptions } from './load-shedding.js';

/**
 * Koa middleware that sheds requests beyond a bulkhead's or adaptive limit's capacity with 503.
 *
 * @example
 * ```ts
 * import { adaptiveLimit } from '@bulwark/bulkhead';
 * import { loadShedding } from '@bulwark/bulkhead/koa';
 * app.use(loadShedding({ limiter: adaptiveLimit({ algorithm: 'aimd', maxLimit: 200 }) }));
 * ```
 */
export const loadShedding = (options: LoadSheddingOptions): Middleware => toKoa(loadSheddingGuard(options));
