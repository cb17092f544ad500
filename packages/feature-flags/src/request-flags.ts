import type { RequestView } from '@bulwark/http';
import type { EvaluationContext } from './constraint-matcher.js';
import type { FeatureFlags, VariantResult } from './feature-flags.js';
import type { FlagEvaluation } from './flag-evaluation.js';

/**
 * The flags as one request sees them: every method evaluates with the request's context, built on first use (a
 * request that reads no flag pays for no context).
 *
 * @example
 * ```ts
 * app.get('/checkout', (req, res) => res.json(req.flags.isEnabled('new-checkout') ? v2() : v1()));
 * ```
 */
export class RequestFlags {
  readonly #flags: FeatureFlags;
  readonly #req: RequestView;
  readonly #build: (req: RequestView) => EvaluationContext;
  #context: EvaluationContext | undefined;

  constructor(flags: FeatureFlags, req: RequestView, build: (req: RequestView) => EvaluationContext) {
    this.#flags = flags;
    this.#req = req;
    this.#build = build;
  }

  /** The evaluation context built from the request. */
  get context(): EvaluationContext {
    return (this.#context ??= this.#build(this.#req));
  }

  /** {@link FeatureFlags.isEnabled} with this request's context. */
  isEnabled(key: string): boolean {
    return this.#flags.isEnabled(key, this.context);
  }

  /** {@link FeatureFlags.evaluate} with this request's context. */
  evaluate<T = unknown>(key: string, defaultValue?: T): FlagEvaluation<T> {
    return this.#flags.evaluate(key, this.context, defaultValue);
  }

  /** {@link FeatureFlags.getVariant} with this request's context. */
  getVariant<T = unknown>(key: string): VariantResult<T> {
    return this.#flags.getVariant(key, this.context);
  }

  /** {@link FeatureFlags.getBoolean} with this request's context. */
  getBoolean(key: string, defaultValue: boolean): boolean {
    return this.#flags.getBoolean(key, defaultValue, this.context);
  }

  /** {@link FeatureFlags.getString} with this request's context. */
  getString(key: string, defaultValue: string): string {
    return this.#flags.getString(key, defaultValue, this.context);
  }

  /** {@link FeatureFlags.getNumber} with this request's context. */
  getNumber(key: string, defaultValue: number): number {
    return this.#flags.getNumber(key, defaultValue, this.context);
  }

  /** {@link FeatureFlags.getObject} with this request's context. */
  getObject<T extends object>(key: string, defaultValue: T): T {
    return this.#flags.getObject(key, defaultValue, this.context);
  }
}
