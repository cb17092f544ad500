import type { Middleware } from 'koa';
import { toKoa } from '@bulwark/http/koa';
import { requestValidator, type RequestValidatorOptions } from './request-validator.js';

/**
 * Koa middleware validating requests with zod schemas; the route sees the parsed values (`ctx.request.body`,
 * `ctx.query`, `ctx.params`). Mount `@koa/bodyparser` before it, and use it as route middleware to check params.
 *
 * @example
 * ```ts
 * import { validateRequest } from '@bulwark/sanitize/koa';
 * router.post('/users/:id', validateRequest({ params: z.object({ id: z.uuid() }), body: UserSchema }), handler);
 * ```
 */
export const validateRequest = (options: RequestValidatorOptions): Middleware => toKoa(requestValidator(options));
