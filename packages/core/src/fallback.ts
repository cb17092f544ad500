import { z } from 'zod';
import { bulwarkChannel } from './channel.js';
import { Emitter } from './emitter.js';
import { functionSchema, nameSchema, parseOptions } from './options.js';
import {
  BasePolicy,
  isPromiseLike,
  policyRun,
  type CallOutcome,
  type ExecuteContext,
  type PolicyFn,
  type PolicyNext,
} from './policy.js';

/** Computes the fallback from the error (undefined for a value outcome) and the full outcome. */
export type FallbackHandler<R> = (
  error: unknown,
  outcome: CallOutcome<unknown>,
  ctx: ExecuteContext,
) => R | PromiseLike<R>;

/** Options for {@link fallback}. */
export interface FallbackOptions {
  /**
   * Which outcomes fall back. Default: every error except the caller's own abort (a caller that gave up does not
   * want a substitute). Return true for a value outcome to replace results too (e.g. an empty list).
   */
  when?: (outcome: CallOutcome<unknown>) => boolean;
  /** A name for events and telemetry labels. */
  name?: string;
}

/** Sent to `onFallback` listeners and on the `bulwark:core:fallback` channel. */
export interface FallbackEvent {
  readonly name: string | undefined;
  readonly outcome: CallOutcome<unknown>;
}

const fallbackChannel = bulwarkChannel<FallbackEvent>('core', 'fallback');

const optionsSchema = z
  .object({
    when: functionSchema().optional(),
    name: nameSchema.optional(),
  })
  .strict();

/** The class behind {@link fallback}. */
export class FallbackPolicy<R> extends BasePolicy<R> {
  override readonly policyKind = 'fallback';
  override readonly name: string | undefined;
  readonly #handler: FallbackHandler<R>;
  readonly #when: ((outcome: CallOutcome<unknown>) => boolean) | undefined;
  readonly #fellBack = new Emitter<FallbackEvent>(fallbackChannel);
  /** Subscribes to fallbacks being used; returns an unsubscribe function. */
  readonly onFallback = this.#fellBack.on;

  constructor(valueOrHandler: R | FallbackHandler<R>, options: FallbackOptions = {}) {
    super();
    const o = parseOptions(optionsSchema, options, 'fallback()');
    this.name = o.name;
    this.#when = options.when;
    this.#handler =
      typeof valueOrHandler === 'function' ? (valueOrHandler as FallbackHandler<R>) : () => valueOrHandler;
  }

  /** Runs one call through this layer: the run protocol of `@bulwark/core/internal`. @internal */
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | R | PromiseLike<T | R> {
    let result: T | PromiseLike<T>;
    try {
      result = next(fn, ctx);
    } catch (error) {
      return this.#onError(error, ctx);
    }
    const when = this.#when;
    if (isPromiseLike<T>(result)) {
      return result.then(when === undefined ? undefined : (value) => this.#onValue(value, ctx), (error: unknown) =>
        this.#onError(error, ctx),
      );
    }
    return when === undefined ? result : this.#onValue(result, ctx);
  }

  #onValue<T>(value: T, ctx: ExecuteContext): T | R | PromiseLike<R> {
    const outcome: CallOutcome<T> = { kind: 'value', value };
    return this.#when!(outcome) ? this.#use(undefined, outcome, ctx) : value;
  }

  #onError(error: unknown, ctx: ExecuteContext): R | PromiseLike<R> {
    const outcome: CallOutcome<never> = { kind: 'error', error };
    const selected =
      this.#when === undefined ? !(ctx.signal.aborted && error === ctx.signal.reason) : this.#when(outcome);
    if (!selected) throw error;
    return this.#use(error, outcome, ctx);
  }

  #use(error: unknown, outcome: CallOutcome<unknown>, ctx: ExecuteContext): R | PromiseLike<R> {
    if (this.#fellBack.active) this.#fellBack.emit({ name: this.name, outcome });
    return this.#handler(error, outcome, ctx);
  }
}

/**
 * Substitutes a value for failed calls. Pass a value, or a function that computes one from the error
 * (to return a function as the value, wrap it: `fallback(() => fn)`).
 *
 * @example
 * ```ts
 * const cached = fallback((err) => cache.get(key) ?? Promise.reject(err));
 * const prices = await compose(cached, timeout(300)).execute(({ signal }) => fetchPrices(signal));
 *
 * // replace results too: an empty list for a 404
 * const empty = fallback([], { when: (o) => o.kind === 'error' || o.value.status === 404 });
 * ```
 */
export function fallback<R>(valueOrHandler: R | FallbackHandler<R>, options?: FallbackOptions): FallbackPolicy<R> {
  return new FallbackPolicy(valueOrHandler, options);
}
