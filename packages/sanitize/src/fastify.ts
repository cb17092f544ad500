import type { FastifyPluginCallback } from 'fastify';
import { toFastify, type FastifyGuardHook } from '@bulwark/http/fastify';
import { requestValidator, type RequestValidatorOptions } from './request-validator.js';

/**
 * Fastify plugin validating requests with zod schemas (in `preValidation`, after Fastify parsed the body); the
 * routes see the parsed values. Register it in the context of the routes it guards.
 *
 * @example
 * ```ts
 * import { validateRequest } from '@bulwark/sanitize/fastify';
 * await app.register(async (users) => {
 *   await users.register(validateRequest({ body: UserSchema }));
 *   users.post('/users', async (request) => request.body);
 * });
 * ```
 */
export const validateRequest = (
  options: RequestValidatorOptions & { hook?: FastifyGuardHook },
): FastifyPluginCallback => {
  const { hook, ...rest } = options;
  return toFastify(requestValidator(rest), { name: '@bulwark/sanitize:validate-request', hook });
};
