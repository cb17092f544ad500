import type { RequestHandler } from 'express';
import { toExpress } from '@bulwark/http/express';
import { requestValidator, type RequestValidatorOptions } from './request-validator.js';

/**
 * Express middleware validating the request with zod schemas; the route sees the parsed values (`req.body`,
 * `req.query`, `req.params`). Mount `express.json()` before it, and mount it at the route when it checks params.
 *
 * @example
 * ```ts
 * import { validateRequest } from '@bulwark/sanitize/express';
 * app.post('/users/:id', express.json(), validateRequest({ params: z.object({ id: z.uuid() }), body: UserSchema }), handler);
 * ```
 */
export const validateRequest = (options: RequestValidatorOptions): RequestHandler =>
  toExpress(requestValidator(options));
