import { BasePolicy, policyRun, runPolicy, type ExecuteContext, type Policy, type PolicyFn } from './policy.js';

// What a layer may resolve with besides the function's result (carried by the type-only `~extra` member).
type ExtraOf<P> = P extends { readonly '~extra'?: () => infer E } ? E : never;

type Runner = (fn: PolicyFn<unknown>, ctx: ExecuteContext) => unknown;

/** A direct call into a layer: the run protocol for Bulwark policies, `execute` for foreign ones. */
function runnerOf(policy: Policy<unknown>): Runner {
  if (typeof (policy as Partial<BasePolicy<unknown>>)[policyRun] === 'function') {
    const p = policy as BasePolicy<unknown>;
    return (fn, ctx) => p[policyRun](fn, ctx);
  }
  return (fn, ctx) => runPolicy(policy, fn, ctx);
}

/** The class behind {@link compose}. */
export class ComposedPolicy<Extra = never> extends BasePolicy<Extra> {
  /** The layers, outermost first (nested compositions flattened). */
  readonly policies: readonly Policy<unknown>[];
  readonly #runners: readonly Runner[];

  constructor(policies: readonly Policy<unknown>[]) {
    super();
    this.policies = policies.flatMap((p) => (p instanceof ComposedPolicy ? p.policies : [p]));
    this.#runners = this.policies.map(runnerOf);
  }

  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext): T | Extra | PromiseLike<T | Extra> {
    const runners = this.#runners;
    if (runners.length === 0) return fn(ctx);
    // Wrap from the inside out: each layer runs the next one with the context it was given.
    let next = fn as PolicyFn<unknown>;
    for (let i = runners.length - 1; i > 0; i--) {
      const run = runners[i]!;
      const inner = next;
      next = (c) => run(inner, c);
    }
    return runners[0]!(next, ctx) as T | Extra | PromiseLike<T | Extra>;
  }
}

/**
 * Stacks policies into one. The first argument is the outermost layer: `compose(retry, breaker, timeout)` retries
 * calls that the breaker admits and the timeout bounds. One signal flows through every layer. The result type
 * includes every layer's extra outcome (e.g. a `fallback` value).
 *
 * @example
 * ```ts
 * const policy = compose(fallback(null), timeout(500));
 * const user: User | null = await policy.execute(({ signal }) => getUser(id, signal));
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any layer's extra type is accepted and joined
export function compose<const P extends readonly Policy<any>[]>(...policies: P): ComposedPolicy<ExtraOf<P[number]>> {
  return new ComposedPolicy(policies);
}
