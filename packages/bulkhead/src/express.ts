import type { RequestHandler } from 'express';
import { toExpress } from '@bulwark/http/express';
import { loadSheddingGuard, type LoadSheddingOptions } from './load-shedding.js';

/**
 * Express middleware that sheds requests beyond a bulkhead's or adaptive limit's capacity with 503.
 *
 * @example
 * ```ts
 * import { adaptiveLimit } from '@bulwark/bulkhead';
 * import { loadShedding } from '@bulwark/bulkhead/express';
 * app.use(loadShedding({ limiter: adaptiveLimit({ minLimit: 10, maxLimit: 200 }) }));
 * ```
 */
export const loadShedding = (options: LoadSheddingOptions): RequestHandler => toExpress(loadSheddingGuard(options));
