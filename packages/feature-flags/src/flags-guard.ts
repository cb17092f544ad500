import { z } from 'zod';
import { functionSchema, methodsSchema, parseOptions } from '@bulwark/core/internal';
import { NEXT, problemReply, type Guard, type NextOutcome, type RequestView } from '@bulwark/http';
import type { EvaluationContext } from './constraint-matcher.js';
import type { FeatureFlags } from './feature-flags.js';
import { RequestFlags } from './request-flags.js';

const contextOptions = {
  /** The targeting key (user id) of a request, e.g. `(req) => (req.raw as Request).user?.id`. */
  targetingKey: functionSchema<(req: RequestView) => string | undefined>().optional(),
  /** Request headers copied into the context, under their lower-case names. */
  headers: z.array(z.string().min(1).toLowerCase()).default([]),
  /** Put the socket peer's address in the context as `remoteAddress` (for `in_cidr` rules). */
  ip: z.boolean().default(true),
  /** More attributes from the request (merged last), e.g. `(req) => ({ plan: req.header('x-plan') })`. */
  context: functionSchema<(req: RequestView) => Record<string, unknown>>().optional(),
};

const flagsSchema = methodsSchema<FeatureFlags>(['evaluate', 'isEnabled'], 'expected FeatureFlags from featureFlags()');

const middlewareSchema = z
  .object({
    flags: flagsSchema,
    ...contextOptions,
    /** Request property holding the {@link RequestFlags}: `req.flags`, `request.flags`, `ctx.state.flags`. */
    requestPropertyName: z.string().min(1).default('flags'),
  })
  .strict();

const requireSchema = z
  .object({
    flags: flagsSchema,
    flag: z.string().min(1),
    ...contextOptions,
    /** Status of the refusal: 404 hides the route entirely (the default), 403 admits it exists. */
    status: z.union([z.literal(404), z.literal(403)]).default(404),
  })
  .strict();

/** Options of the flags middleware (`flagsMiddleware`): how a request becomes an evaluation context. */
export type FlagsMiddlewareOptions = Omit<z.input<typeof middlewareSchema>, 'flags'>;
/** Options of `requireFlag`. */
export type RequireFlagOptions = Omit<z.input<typeof requireSchema>, 'flags' | 'flag'>;

type ContextOptions = Pick<z.output<typeof middlewareSchema>, 'targetingKey' | 'headers' | 'ip' | 'context'>;

/** The context builder the options describe. */
function contextBuilder(o: ContextOptions): (req: RequestView) => EvaluationContext {
  return (req) => {
    const ctx: Record<string, unknown> = {};
    const key = o.targetingKey?.(req);
    if (key !== undefined) ctx.targetingKey = key;
    if (o.ip) ctx.remoteAddress = req.ip;
    for (const name of o.headers) {
      const value = req.header(name);
      if (value !== undefined) ctx[name] = value;
    }
    return o.context ? Object.assign(ctx, o.context(req)) : ctx;
  };
}

/**
 * The neutral guard behind `flagsMiddleware`: puts a {@link RequestFlags} on the request. Mount it with the
 * adapter of your framework (`@bulwark/feature-flags/express`, `/fastify`, `/koa`).
 *
 * @example
 * ```ts
 * app.use(toExpress(flagsGuard(flags, { targetingKey: (req) => req.header('x-user-id') })));
 * ```
 */
export function flagsGuard(flags: FeatureFlags, options?: FlagsMiddlewareOptions): Guard {
  const o = parseOptions(middlewareSchema, { ...options, flags }, 'flagsMiddleware()');
  const build = contextBuilder(o);
  const property = o.requestPropertyName;
  const guard = (req: RequestView): NextOutcome => ({
    kind: 'next',
    state: { [property]: new RequestFlags(flags, req, build) },
  });
  return Object.assign(guard, { stateKeys: [property] });
}

/**
 * The neutral guard behind `requireFlag`: answers 404 (problem+json) unless the flag is on for the request, so a
 * route behind an unreleased flag does not exist for those outside the rollout.
 *
 * @example
 * ```ts
 * app.get('/beta', toExpress(requireFlagGuard(flags, 'beta-page')), handler);
 * ```
 */
export function requireFlagGuard(flags: FeatureFlags, flag: string, options?: RequireFlagOptions): Guard {
  const o = parseOptions(requireSchema, { ...options, flags, flag }, 'requireFlag()');
  const build = contextBuilder(o);
  const refusal = {
    kind: 'respond' as const,
    ...problemReply({ title: o.status === 404 ? 'Not Found' : 'Forbidden', status: o.status }),
  };
  return (req) => (flags.isEnabled(flag, build(req)) ? NEXT : refusal);
}
