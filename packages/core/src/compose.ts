import { BasePolicy, policyRun, runPolicy, type ExecuteContext, type Policy, type PolicyFn } from './policy.js';

type ExtraOf<P> = P extends Policy<infer E> ? E : never;

/** The class behind {@link compose}. */
export class ComposedPolicy<Extra = never> extends BasePolicy<Extra> {
  /** The layers, outermost first (nested compositions flattened). */
  readonly policies: readonly Policy<unknown>[];

  constructor(policies: readonly Policy<unknown>[]) {
    super();
    this.policies = policies.flatMap((p) => (p instanceof ComposedPolicy ? p.policies : [p]));
  }

  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext): T | Extra | PromiseLike<T | Extra> {
    const layers = this.policies;
    if (layers.length === 0) return fn(ctx);
    // Wrap from the inside out: each layer runs the next one with the context it was given.
    let next: PolicyFn<unknown> = fn;
    for (let i = layers.length - 1; i > 0; i--) {
      const layer = layers[i]!;
      const inner = next;
      next = (c) => runPolicy(layer, inner, c);
    }
    return runPolicy(layers[0]!, next, ctx) as T | Extra | PromiseLike<T | Extra>;
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
export function compose<const P extends readonly Policy<any>[]>(...policies: P): ComposedPolicy<ExtraOf<P[number]>> {
  return new ComposedPolicy(policies as readonly Policy<unknown>[]);
}
