/**
 * The run protocol every policy layer speaks (see `policy.ts`): what a layer receives and how it calls the rest of
 * its stack. A leaf module, so the policy base class and the telemetry wrapper around each layer both build on it
 * without importing each other.
 */

/** What a policy hands to the function it runs. */
export interface ExecuteContext {
  /** Aborted when the caller's signal aborts or a layer (e.g. `timeout`) gives up. Pass it to `fetch` and friends. */
  readonly signal: AbortSignal;
  /** 1 for the first call, 2 for the first retry, and so on. */
  readonly attempt: number;
}

/** A function a policy can run: sync or async, reading the context if it wants to. */
export type PolicyFn<T> = (ctx: ExecuteContext) => T | PromiseLike<T>;

/**
 * The run protocol symbol (shared across package copies through the global symbol registry).
 * For policy authors; application code calls `execute`.
 */
export const policyRun: unique symbol = Symbol.for('bulwark.policy.run') as never;

/**
 * Runs the rest of a stack: the layers inside this one, then the function. A layer calls `next(fn, ctx)` where a
 * lone policy would call `fn(ctx)`; `fn` travels as data, so `compose` builds its stages once, not per call, and a
 * layer may call `next` any number of times (retries).
 */
export type PolicyNext = <T>(fn: PolicyFn<T>, ctx: ExecuteContext) => T | PromiseLike<T>;

/** True for promises and other thenables. */
export function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return (
    value instanceof Promise ||
    (value !== null &&
      (typeof value === 'object' || typeof value === 'function') &&
      typeof (value as { then?: unknown }).then === 'function')
  );
}

/** What `runLayer` needs of a policy: its run method and its telemetry identity. */
export interface PolicyLayer {
  readonly policyKind?: string;
  readonly name?: string | undefined;
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): unknown;
}
