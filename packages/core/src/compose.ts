import { BasePolicy, policyRun, type ExecuteContext, type Policy, type PolicyFn } from './policy.js';

// What a layer may resolve with besides the function's result (carried by the type-only `~extra` member).
type ExtraOf<P> = P extends { readonly '~extra'?: () => infer E } ? E : never;

/** Adapts a policy that only has `execute` to the run protocol, so every layer is called the same way. */
class ForeignLayer extends BasePolicy<unknown> {
  constructor(readonly policy: Policy<unknown>) {
    super();
  }
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext): PromiseLike<unknown> {
    return this.policy.execute(fn, ctx.signal);
  }
}

/** The class behind {@link compose}. */
export class ComposedPolicy<Extra = never> extends BasePolicy<Extra> {
  /** The layers, outermost first (nested compositions flattened). */
  readonly policies: readonly Policy<unknown>[];
  readonly #layers: readonly BasePolicy<unknown>[];

  constructor(policies: readonly Policy<unknown>[]) {
    super();
    this.policies = policies.flatMap((p) => (p instanceof ComposedPolicy ? p.policies : [p]));
    this.#layers = this.policies.map((p) =>
      typeof (p as Partial<BasePolicy<unknown>>)[policyRun] === 'function'
        ? (p as BasePolicy<unknown>)
        : new ForeignLayer(p),
    );
  }

  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext): T | Extra | PromiseLike<T | Extra> {
    const layers = this.#layers;
    if (layers.length === 0) return fn(ctx);
    // Wrap from the inside out: each layer runs the next one with the context it was given.
    let next = fn as PolicyFn<unknown>;
    for (let i = layers.length - 1; i > 0; i--) {
      const layer = layers[i]!;
      const inner = next;
      next = (c) => layer[policyRun](inner, c);
    }
    return layers[0]![policyRun](next, ctx) as T | Extra | PromiseLike<T | Extra>;
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
