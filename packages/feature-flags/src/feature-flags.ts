import { z } from 'zod';
import { BulwarkError, systemClock, type Clock } from '@bulwark/core';
import {
  bulwarkChannel,
  clockSchema,
  Emitter,
  functionSchema,
  methodsSchema,
  parseOptions,
} from '@bulwark/core/internal';
import { compileFlags, newVerdict, type CompiledFlag, type Verdict } from './compiled-flags.js';
import type { EvaluationContext } from './constraint-matcher.js';
import { applyEnvOverrides } from './env-overrides.js';
import type { EvaluationErrorCode, EvaluationReason, FlagEvaluation } from './flag-evaluation.js';
import {
  flagDocumentSchema,
  type FlagDefinition,
  type FlagDefinitionInput,
  type FlagDocument,
  type FlagDocumentInput,
} from './flag-definition.js';
import type { FlagSource } from './flag-source.js';

/** Published on `bulwark:feature-flags:evaluation` (sampled by `evaluationSampleRate`) while someone subscribes. */
export interface FlagEvaluationEvent {
  readonly name: string;
  readonly flag: string;
  readonly variant: string | undefined;
  readonly reason: EvaluationReason;
  readonly enabled: boolean;
  /** How many evaluations this event stands for (1 / the sample rate): add it, do not count events. */
  readonly weight: number;
}

/**
 * Emitted by `onChange` (and on `bulwark:feature-flags:change`) when a new document took effect: the keys of the
 * flags added, changed or removed.
 */
export interface FlagsChangeEvent {
  readonly name: string;
  readonly flags: readonly string[];
}

/**
 * Emitted by `onError` (and on `bulwark:feature-flags:error`): a document that could not be read or was refused;
 * the last good one stays in force.
 */
export interface FlagsErrorEvent {
  readonly name: string;
  readonly error: Error;
}

const evaluationChannel = bulwarkChannel<FlagEvaluationEvent>('feature-flags', 'evaluation');

const optionsSchema = z
  .object({
    /** Telemetry label. */
    name: z.string().min(1).default('flags'),
    /** The document, or the one to serve until `source` has loaded. */
    flags: z.unknown().optional(),
    source: methodsSchema<FlagSource>(['load'], 'expected a FlagSource with load()').optional(),
    /** Environment consulted for `BULWARK_FLAG_<NAME>` overrides; `false` to ignore the environment. */
    env: z
      .union([z.record(z.string(), z.string().optional()), z.literal(false)])
      .default(() => process.env as Record<string, string | undefined>),
    /** Timers for retrying a failed first load. */
    clock: clockSchema.default(() => systemClock),
    /** Wall-clock time in epoch ms, for date constraints when the context has no `currentTime`. */
    now: functionSchema<() => number>().default(() => Date.now),
    /** Source of `random` stickiness, in [0, 1). */
    random: functionSchema<() => number>().default(() => Math.random),
    /** The machine's name for `hostNames` rules; `HOSTNAME` or `os.hostname()` unless set. */
    hostname: z.string().optional(),
    /** Delay before retrying a source whose first load failed; doubles up to 30 s. */
    retryMs: z.number().int().positive().default(1000),
    /** Fraction of evaluations published on the diagnostics channel (each event says how many it stands for). */
    evaluationSampleRate: z.number().gt(0).max(1).default(1),
  })
  .strict()
  .refine((o) => o.flags !== undefined || o.source !== undefined, {
    message: 'give flags (a document) or source (fileSource, httpSource, redisSource)',
  });

/** Options of {@link featureFlags}. */
export type FeatureFlagsOptions = z.input<typeof optionsSchema> & {
  flags?: FlagDocumentInput;
  source?: FlagSource;
  clock?: Clock;
};

/** A flag's variant as `getVariant` reports it. */
export interface VariantResult<T = unknown> {
  /** The variant's name; `undefined` when the flag is off without an `offVariant`, or unknown. */
  readonly name: string | undefined;
  readonly value: T | undefined;
  readonly enabled: boolean;
}

const notFound = (key: string) => `no flag ${JSON.stringify(key)}`;
const emptyContext: EvaluationContext = Object.freeze({});

/**
 * Feature flags: a validated document compiled for fast synchronous evaluation, hot-reloaded from its source,
 * changeable at run time with write-through. Evaluation never throws: a missing flag, a type mismatch or an
 * unreadable context answers the caller's default with a reason and an error code.
 *
 * @example
 * ```ts
 * const flags = featureFlags({ source: fileSource('./flags.yaml', { watch: true }) });
 * await flags.ready();
 * if (flags.isEnabled('new-checkout', { targetingKey: user.id, plan: user.plan })) { … }
 * const color = flags.getString('button-color', 'grey', { targetingKey: user.id });
 * ```
 */
export class FeatureFlags {
  readonly name: string;
  readonly #options: z.output<typeof optionsSchema>;
  #compiled: ReadonlyMap<string, CompiledFlag> = new Map();
  #document: FlagDocument | undefined;
  /** The document as written (without schema defaults): what `save` writes back. */
  #written: FlagDocumentInput = {};
  readonly #verdict: Verdict = newVerdict();
  readonly #changed = new Emitter<FlagsChangeEvent>(bulwarkChannel('feature-flags', 'change'));
  readonly #errors = new Emitter<FlagsErrorEvent>(bulwarkChannel('feature-flags', 'error'));
  /** Subscribes to document changes that took effect. */
  readonly onChange = this.#changed.on;
  /** Subscribes to documents that could not be read or were refused. */
  readonly onError = this.#errors.on;
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #isReady = false;
  #stopWatch: (() => void) | undefined;
  #retryTimer: unknown;
  #closed = false;
  #writes: Promise<unknown> = Promise.resolve();
  #sampleStride: number;
  #sampleCount = 0;

  constructor(options: FeatureFlagsOptions) {
    this.#options = parseOptions(optionsSchema, options, 'featureFlags()');
    this.name = this.#options.name;
    this.#sampleStride = Math.max(1, Math.round(1 / this.#options.evaluationSampleRate));
    this.#ready = new Promise((resolve) => (this.#resolveReady = resolve));
    if (this.#options.flags !== undefined) {
      // A bad inline document is a configuration error: thrown here, at construction.
      this.#apply(this.#options.flags, true);
    }
    if (this.#options.source) this.#load(this.#options.retryMs);
    else this.#markReady();
  }

  /**
   * Resolves once the source's first document is in force (at once for an inline document). Until then
   * evaluations answer defaults with `PROVIDER_NOT_READY`, unless an inline `flags` document serves meanwhile.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** True once {@link ready} has resolved. */
  get isReady(): boolean {
    return this.#isReady;
  }

  /**
   * Evaluates a flag in full: value, variant, whether it is on, the reason, the matching rule.
   *
   * @example
   * ```ts
   * const { value, reason, ruleId } = flags.evaluate('discount', { targetingKey: 'u1', country: 'NL' }, 0);
   * ```
   */
  evaluate<T = unknown>(key: string, context?: EvaluationContext, defaultValue?: T): FlagEvaluation<T> {
    const flag = this.#compiled.get(key);
    const error = this.#run(key, context, flag);
    const v = this.#verdict;
    const metadata = flag?.definition.metadata;
    if (error) {
      return {
        key,
        value: defaultValue as T,
        variant: undefined,
        enabled: false,
        reason: 'ERROR',
        ruleId: undefined,
        ...error,
        ...(metadata && { flagMetadata: metadata }),
      };
    }
    return {
      key,
      value: (v.hasValue ? v.value : defaultValue) as T,
      variant: v.hasValue ? v.variant : undefined,
      enabled: v.enabled,
      reason: v.reason,
      ruleId: v.ruleId,
      ...(metadata && { flagMetadata: metadata }),
    };
  }

  /** True when the flag is on for the context; false for an unknown flag. Allocates nothing. */
  isEnabled(key: string, context?: EvaluationContext): boolean {
    return this.#run(key, context) === undefined && this.#verdict.enabled;
  }

  /** The variant served to the context. */
  getVariant<T = unknown>(key: string, context?: EvaluationContext): VariantResult<T> {
    const error = this.#run(key, context);
    const v = this.#verdict;
    if (error || !v.hasValue) return { name: undefined, value: undefined, enabled: false };
    return { name: v.variant, value: v.value as T, enabled: v.enabled };
  }

  /** The flag's value when it is a boolean, else `defaultValue`. */
  getBoolean(key: string, defaultValue: boolean, context?: EvaluationContext): boolean {
    return this.#typed(key, defaultValue, context, 'boolean');
  }

  /** The flag's value when it is a string, else `defaultValue`. */
  getString(key: string, defaultValue: string, context?: EvaluationContext): string {
    return this.#typed(key, defaultValue, context, 'string');
  }

  /** The flag's value when it is a number, else `defaultValue`. */
  getNumber(key: string, defaultValue: number, context?: EvaluationContext): number {
    return this.#typed(key, defaultValue, context, 'number');
  }

  /** The flag's value when it is an object or array (JSON), else `defaultValue`. */
  getObject<T extends object>(key: string, defaultValue: T, context?: EvaluationContext): T {
    return this.#typed(key, defaultValue, context, 'object');
  }

  /** The definitions in force (after environment overrides), by key. */
  list(): Readonly<Record<string, FlagDefinition>> {
    return this.#document?.flags ?? {};
  }

  /** One definition in force, or `undefined`. */
  get(key: string): FlagDefinition | undefined {
    return this.#document?.flags[key];
  }

  /** The document as written (no defaults filled in): what the source holds. */
  document(): FlagDocumentInput {
    return this.#written;
  }

  /**
   * Adds or replaces a flag: validated with the rest of the document, written through to the source (when it has
   * `save`), then put in force at once. Rejects, changing nothing, when the document would be invalid or the write
   * fails. Calls are applied one at a time, in order.
   *
   * @example
   * ```ts
   * await flags.set('new-checkout', { rules: [{ rollout: { percentage: 20 } }] });
   * ```
   */
  set(key: string, definition: FlagDefinitionInput): Promise<void> {
    return this.#write(() => ({ ...this.#written, flags: { ...this.#written.flags, [key]: definition } }));
  }

  /** Removes a flag, as {@link set} does. Rejects while another flag requires it. */
  remove(key: string): Promise<void> {
    return this.#write(() => {
      const flags = { ...this.#written.flags };
      delete flags[key];
      return { ...this.#written, flags };
    });
  }

  /** Replaces the whole document, as {@link set} does. */
  replace(document: FlagDocumentInput): Promise<void> {
    return this.#write(() => document);
  }

  /** Stops watching the source and releases it. Evaluation keeps answering from the last document. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopWatch?.();
    if (this.#retryTimer !== undefined) this.#options.clock.clearTimeout(this.#retryTimer);
    await this.#options.source?.close?.();
  }

  /** Evaluates into the shared verdict; returns the error fields when the flag could not be evaluated. */
  #run(
    key: string,
    context: EvaluationContext | undefined,
    flag: CompiledFlag | undefined = this.#compiled.get(key),
  ): { errorCode: EvaluationErrorCode; errorMessage: string } | undefined {
    if (flag === undefined) {
      return this.#document === undefined
        ? { errorCode: 'PROVIDER_NOT_READY', errorMessage: 'the flags have not loaded yet' }
        : { errorCode: 'FLAG_NOT_FOUND', errorMessage: notFound(key) };
    }
    const ctx = context === undefined || context === null || typeof context !== 'object' ? emptyContext : context;
    try {
      flag.evaluate(ctx, this.#verdict);
    } catch (error) {
      // A context whose getters throw, or a proxy: answer the default rather than fail the caller.
      return { errorCode: 'INVALID_CONTEXT', errorMessage: `could not read the context: ${(error as Error).message}` };
    }
    if (evaluationChannel.hasSubscribers && ++this.#sampleCount >= this.#sampleStride) {
      this.#sampleCount = 0;
      const v = this.#verdict;
      evaluationChannel.publish({
        name: this.name,
        flag: key,
        variant: v.hasValue ? v.variant : undefined,
        reason: v.reason,
        enabled: v.enabled,
        weight: this.#sampleStride,
      });
    }
    return undefined;
  }

  #typed<T>(key: string, defaultValue: T, context: EvaluationContext | undefined, type: string): T {
    if (this.#run(key, context) !== undefined) return defaultValue;
    const v = this.#verdict;
    if (!v.hasValue) return defaultValue;
    const value = v.value;
    const actual = value === null ? 'null' : typeof value;
    return actual === type ? (value as T) : defaultValue;
  }

  /** Validates, applies environment overrides, compiles, and swaps in one assignment. Throws when invalid. */
  #apply(written: unknown, initial = false): void {
    const parsed = parseOptions(flagDocumentSchema, written, 'feature flags document');
    const { document, problems } =
      this.#options.env === false ? { document: parsed, problems: [] } : applyEnvOverrides(parsed, this.#options.env);
    const compiled = compileFlags(document, {
      random: this.#options.random,
      now: this.#options.now,
      hostname: this.#options.hostname,
    });
    const before = this.#document;
    this.#compiled = compiled;
    this.#document = document;
    this.#written = written as FlagDocumentInput;
    for (const problem of problems) this.#reportError(new BulwarkError('BULWARK_FLAG_ENV', problem));
    if (!initial && this.#changed.active) {
      const flags = changedKeys(before?.flags ?? {}, document.flags);
      if (flags.length > 0) this.#changed.emit({ name: this.name, flags });
    }
  }

  #write(next: () => FlagDocumentInput): Promise<void> {
    const run = async () => {
      const written = next();
      // Validate before writing: an invalid document must not reach the source.
      parseOptions(flagDocumentSchema, written, 'feature flags document');
      const source = this.#options.source;
      if (source && !source.save) {
        throw new BulwarkError('BULWARK_FLAG_READ_ONLY', 'this flag source cannot be written (it has no save())');
      }
      await source?.save?.(written);
      this.#apply(written);
    };
    const result = this.#writes.then(run, run);
    this.#writes = result.catch(() => undefined);
    return result;
  }

  #load(delayMs: number): void {
    const source = this.#options.source!;
    source.load().then(
      (document) => {
        if (this.#closed) return;
        try {
          this.#apply(document);
        } catch (error) {
          this.#reportError(error as Error);
          this.#retry(delayMs);
          return;
        }
        this.#markReady();
        this.#stopWatch = source.watch?.(
          (next) => {
            try {
              this.#apply(next);
            } catch (error) {
              this.#reportError(error as Error);
            }
          },
          (error) => this.#reportError(error),
        );
      },
      (error: unknown) => {
        if (this.#closed) return;
        this.#reportError(error instanceof Error ? error : new Error(String(error)));
        this.#retry(delayMs);
      },
    );
  }

  #retry(delayMs: number): void {
    this.#retryTimer = this.#options.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      if (!this.#closed) this.#load(Math.min(delayMs * 2, 30_000));
    }, delayMs);
  }

  #markReady(): void {
    if (this.#isReady) return;
    this.#isReady = true;
    this.#resolveReady();
  }

  #reportError(error: Error): void {
    if (this.#errors.active) this.#errors.emit({ name: this.name, error });
  }
}

/** Keys added, removed, or whose definition differs. */
function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

/**
 * Creates {@link FeatureFlags}.
 *
 * @example
 * ```ts
 * const flags = featureFlags({ flags: { flags: { 'new-checkout': { rules: [{ rollout: { percentage: 10 } }] } } } });
 * flags.isEnabled('new-checkout', { targetingKey: 'user-42' });
 * ```
 */
export const featureFlags = (options: FeatureFlagsOptions): FeatureFlags => new FeatureFlags(options);
