import { BulwarkConfigError } from '@bulwark/core';
import type { LimitRule } from './algorithms.js';
import type { Decision } from './decision.js';

/** `'sync'`: answers are values (memory). `'async'`: answers are promises (Redis). */
export type StoreMode = 'sync' | 'async';

/** `T` for a synchronous store, `Promise<T>` for an asynchronous one. */
export type StoreResult<M extends StoreMode, T> = M extends 'sync' ? T : Promise<T>;

/**
 * One or several limits bound to a store: the operations a limiter forwards. `now` is the limiter's clock; a store
 * with its own time source (Redis `TIME`) ignores it.
 */
export interface LimitBinding<M extends StoreMode> {
  /** Decides and, if every limit allows it, counts the request. */
  consume(key: string, cost: number, now: number): StoreResult<M, Decision>;
  /** Decides without counting. */
  peek(key: string, cost: number, now: number): StoreResult<M, Decision>;
  /** Gives `cost` units back to every limit. */
  refund(key: string, cost: number, now: number): StoreResult<M, void>;
  /** Forgets the key in every limit (counts and penalties). */
  reset(key: string): StoreResult<M, void>;
}

/**
 * Where limits keep their per-key state. Bulwark ships {@link memoryStore} and `redisStore` (at
 * `@bulwark/rate-limiter/redis`); a store binds a set of limits once, at limiter construction.
 */
export interface RateLimitStore<M extends StoreMode = StoreMode> {
  readonly mode: M;
  /**
   * Binds limits that are decided together. Throws a `BulwarkConfigError` when another limiter's limit of the same
   * name is already bound (see `checkRule`).
   */
  bind(rules: readonly LimitRule[]): LimitBinding<M>;
}

/**
 * Registers a limit with a store, failing construction when another limiter already uses its name there: two
 * limiters sharing a name would count each other's requests. Binding
 * the same limiter again (`rateLimits` does) is fine.
 */
export function checkRule(bound: Map<string, LimitRule>, rule: LimitRule): void {
  const known = bound.get(rule.name);
  if (known === undefined) bound.set(rule.name, rule);
  else if (known !== rule) {
    throw new BulwarkConfigError('rateLimiter()', [
      {
        field: 'name',
        message: `another limiter named "${rule.name}" already uses this store; give each limiter its own name, or share the limiter object`,
      },
    ]);
  }
}
