import { BasePolicy, policyRun, type ExecuteContext, type PolicyFn, type PolicyNext } from './policy.js';

/** The class behind {@link noop}. */
export class NoopPolicy extends BasePolicy {
  /** Runs one call through this layer: the run protocol of `@bulwark/core/internal`. @internal */
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | PromiseLike<T> {
    return next(fn, ctx);
  }
}

/**
 * A policy that runs the function as is. Handy for switching a layer off by configuration.
 *
 * @example
 * ```ts
 * const policy = compose(config.retries ? retry({ maxAttempts: 3 }) : noop, timeout(1_000));
 * ```
 */
export const noop: NoopPolicy = new NoopPolicy();
