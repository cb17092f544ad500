import {
  BasePolicy,
  callFunction,
  policyRun,
  type ExecuteContext,
  type Policy,
  type PolicyFn,
  type PolicyNext,
} from './policy.js';
import { runLayer } from './policy-call.js';

// What a layer may resolve with besides the function's result (carried by the type-only `~extra` member).
type ExtraOf<P> = P extends { readonly '~extra'?: () => infer E } ? E : never;

/** Adapts a policy that only has `execute` to the run protocol, so every layer is called the same way. */
class ForeignLayer extends BasePolicy<unknown> {
  constructor(readonly policy: Policy<unknown>) {
    super();
  }
  /** Runs one call through this layer: the run protocol of `@bulwark/core/internal`. @internal */
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): PromiseLike<unknown> {
    return this.policy.execute((c) => next(fn, c), ctx.signal);
  }
}

/** The class behind {@link compose}. */
export class ComposedPolicy<Extra = never> extends BasePolicy<Extra> {
  /** The layers, outermost first (nested compositions flattened). */
  readonly policies: readonly Policy<unknown>[];
  /** Runs layer 0 and, through its `next`, every layer below it. Built once: a call allocates no closures. */
  readonly #top: PolicyNext;

  constructor(policies: readonly Policy<unknown>[]) {
    super();
    this.policies = policies.flatMap((p) => (p instanceof ComposedPolicy ? p.policies : [p]));
    const layers = this.policies.map((p) =>
      typeof (p as Partial<BasePolicy<unknown>>)[policyRun] === 'function'
        ? (p as BasePolicy<unknown>)
        : new ForeignLayer(p),
    );
    // stage(i) runs layer i with stage(i + 1) as its next; the last stage calls the function.
    let stage: PolicyNext = callFunction;
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i]!;
      const below = stage;
      stage = ((fn, ctx) => runLayer(layer, fn, ctx, below)) as PolicyNext;
    }
    this.#top = stage;
  }

  /** Runs one call through this layer: the run protocol of `@bulwark/core/internal`. @internal */
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | Extra | PromiseLike<T | Extra> {
    // Nested inside another stack: run our layers, then hand on to that stack's next.
    if (next !== callFunction) return this.#top((c) => next(fn, c), ctx);
    return this.#top(fn, ctx);
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
