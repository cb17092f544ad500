import { runLayer } from './policy-call.js';
import { policyRun, type ExecuteContext, type PolicyFn, type PolicyNext } from './run-protocol.js';

export { isPromiseLike, policyRun, type ExecuteContext, type PolicyFn, type PolicyNext } from './run-protocol.js';

/**
 * The policy kernel's contract. Every resilience primitive is a `Policy`; `compose` stacks them.
 *
 * Internally, Bulwark policies also implement a synchronous-capable run protocol (`[policyRun]`): a layer returns
 * a plain value when the work was synchronous and hands back the caller's own promise when it has nothing to add,
 * so a stack of layers costs function calls, not one promise per layer. `execute` is the only place that turns the
 * answer into a promise.
 */

/**
 * A resilience policy. `Extra` is what the policy may resolve with besides the function's own result
 * (a `fallback` value); it is `never` for policies that only pass results through.
 *
 * @example
 * ```ts
 * const policy: Policy = timeout(2_000);
 * // The caller's signal, e.g. requestSignal(req) from @bulwark/http/express: aborts when the client goes away.
 * const body = await policy.execute(({ signal }) => fetch(url, { signal }).then((r) => r.json()), requestSignal(req));
 * ```
 */
export interface Policy<Extra = never> {
  /**
   * Runs `fn` under this policy. Always returns a promise; never throws synchronously.
   * @param signal - the caller's signal: aborting it rejects at once with its reason.
   */
  execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T | Extra>;
  /** Type-only: carries `Extra` for `compose`'s inference. Never present at runtime. */
  readonly '~extra'?: () => Extra;
}

/** The outcome of one call: an error or a value. Passed to predicates such as `fallback`'s `when`. */
export type CallOutcome<T> =
  { readonly kind: 'value'; readonly value: T } | { readonly kind: 'error'; readonly error: unknown };

/** The bottom of every stack: call the function. */
export const callFunction: PolicyNext = (fn, ctx) => fn(ctx);

/** A signal that never aborts; the context's signal when the caller passes none. */
export const neverAbortedSignal: AbortSignal = new AbortController().signal;

const rootContext: ExecuteContext = Object.freeze({ signal: neverAbortedSignal, attempt: 1 });

/**
 * Base class for policies. Subclasses implement `[policyRun](fn, ctx, next)`, calling `next(fn, ctx)` to run what
 * they wrap; it may return a value synchronously, return a promise, or throw. `execute` adapts that to the public
 * promise contract.
 *
 * @example
 * ```ts
 * class CountingPolicy extends BasePolicy {
 *   calls = 0;
 *   [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | PromiseLike<T> {
 *     this.calls++;
 *     return next(fn, ctx);
 *   }
 * }
 * await compose(new CountingPolicy(), timeout(100)).execute(() => 42);
 * ```
 */
export abstract class BasePolicy<Extra = never> implements Policy<Extra> {
  declare readonly '~extra'?: () => Extra;
  /** The kind reported to telemetry (`retry`, `circuit-breaker`, ...); policies without one are not reported. */
  declare readonly policyKind?: string;
  /** The name reported to telemetry. */
  declare readonly name?: string | undefined;

  /** Runs `next(fn, ctx)` under this policy; may answer synchronously. For policy authors and `compose`. */
  abstract [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | Extra | PromiseLike<T | Extra>;

  execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T | Extra> {
    let ctx = rootContext;
    if (signal !== undefined) {
      // The caller's reason is whatever they aborted with; it is passed on untouched.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      if (signal.aborted) return Promise.reject(signal.reason);
      ctx = { signal, attempt: 1 };
    }
    let result: T | Extra | PromiseLike<T | Extra>;
    try {
      result = runLayer(this as BasePolicy<unknown>, fn, ctx, callFunction) as T | Extra | PromiseLike<T | Extra>;
    } catch (error) {
      // A synchronous throw becomes a rejection with the same value, whatever was thrown.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    // The function's own native promise goes back as is: no extra promise for pass-through stacks.
    return result instanceof Promise ? (result as Promise<T | Extra>) : Promise.resolve(result);
  }

  /**
   * `f` wrapped in this policy: each call of the result runs `f(...args)` through {@link execute}. `f` does not see
   * the policy's signal; use `execute` when it should.
   *
   * @example
   * ```ts
   * const getUser = breaker.fn((id: string) => db.users.find(id));
   * const user = await getUser('42');
   * ```
   */
  fn<A extends unknown[], T>(f: (...args: A) => T | PromiseLike<T>): (...args: A) => Promise<T | Extra> {
    return (...args) => this.execute(() => f(...args));
  }
}
