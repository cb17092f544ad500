/**
 * Why an evaluation answered what it did: OpenFeature's reasons, plus `PREREQUISITE_FAILED` (a flag this one
 * requires was not as required).
 */
export type EvaluationReason =
  'STATIC' | 'DEFAULT' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED' | 'PREREQUISITE_FAILED' | 'ERROR';

/** OpenFeature's error codes, as far as an in-process evaluator can meet them. */
export type EvaluationErrorCode =
  'FLAG_NOT_FOUND' | 'TYPE_MISMATCH' | 'INVALID_CONTEXT' | 'PROVIDER_NOT_READY' | 'GENERAL';

/**
 * The answer for one flag and one context.
 *
 * @example
 * ```ts
 * const r = flags.evaluate('new-checkout', { targetingKey: 'user-42' });
 * // { key: 'new-checkout', value: true, variant: 'on', enabled: true, reason: 'SPLIT' | 'TARGETING_MATCH' | …, ruleId: 'rule-1' }
 * ```
 */
export interface FlagEvaluation<T = unknown> {
  readonly key: string;
  /** The served variant's value, or the caller's default when the flag is off without an `offVariant` or on error. */
  readonly value: T;
  /** The served variant's name; `undefined` when the caller's default was answered. */
  readonly variant: string | undefined;
  /** True when the flag is on for this context: a rule matched, the key is allow-listed, or the flag has no rules. */
  readonly enabled: boolean;
  readonly reason: EvaluationReason;
  /** The matching rule's id (`rule-<index>` unless it has one); `allow` / `deny` for the lists. */
  readonly ruleId: string | undefined;
  readonly errorCode?: EvaluationErrorCode;
  readonly errorMessage?: string;
  /** The flag's `metadata`. */
  readonly flagMetadata?: Readonly<Record<string, string | number | boolean>>;
}
