import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { FeatureFlags } from './feature-flags.js';

/**
 * An OpenFeature server provider over {@link FeatureFlags}: the four resolvers, `initialize` that waits for the
 * flags' first document (so `setProviderAndWait` means ready), and events: `PROVIDER_CONFIGURATION_CHANGED` with
 * the changed keys, `PROVIDER_STALE` when a new document was refused (the last good one keeps serving), and
 * `PROVIDER_READY` again once a good one arrives. The flags are the caller's: closing the provider leaves them open.
 *
 * @example
 * ```ts
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { BulwarkProvider } from '@bulwark/feature-flags/openfeature';
 * await OpenFeature.setProviderAndWait(new BulwarkProvider(flags));
 * const client = OpenFeature.getClient();
 * await client.getBooleanValue('new-checkout', false, { targetingKey: 'user-42' });
 * ```
 */
export class BulwarkProvider implements Provider {
  readonly metadata = { name: 'bulwark' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly #flags: FeatureFlags;
  #unsubscribe: (() => void)[] = [];
  #stale = false;

  constructor(flags: FeatureFlags) {
    this.#flags = flags;
  }

  async initialize(): Promise<void> {
    await this.#flags.ready();
    this.#unsubscribe = [
      this.#flags.onChange((e) => {
        if (this.#stale) {
          this.#stale = false;
          this.events.emit(ProviderEvents.Ready);
        }
        this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: [...e.flags] });
      }),
      this.#flags.onError((e) => {
        this.#stale = true;
        this.events.emit(ProviderEvents.Stale, { message: e.error.message });
      }),
    ];
  }

  onClose(): Promise<void> {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    return Promise.resolve();
  }

  resolveBooleanEvaluation(key: string, defaultValue: boolean, context: EvaluationContext) {
    return Promise.resolve(this.#resolve(key, defaultValue, context, 'boolean'));
  }

  resolveStringEvaluation(key: string, defaultValue: string, context: EvaluationContext) {
    return Promise.resolve(this.#resolve(key, defaultValue, context, 'string'));
  }

  resolveNumberEvaluation(key: string, defaultValue: number, context: EvaluationContext) {
    return Promise.resolve(this.#resolve(key, defaultValue, context, 'number'));
  }

  resolveObjectEvaluation<T extends JsonValue>(key: string, defaultValue: T, context: EvaluationContext) {
    return Promise.resolve(this.#resolve(key, defaultValue, context, 'object'));
  }

  #resolve<T>(key: string, defaultValue: T, context: EvaluationContext, type: string): ResolutionDetails<T> {
    const r = this.#flags.evaluate<T>(key, context, defaultValue);
    const base = r.flagMetadata ? { flagMetadata: r.flagMetadata } : {};
    if (r.errorCode) {
      return {
        ...base,
        value: defaultValue,
        reason: 'ERROR',
        errorCode: r.errorCode as ErrorCode,
        errorMessage: r.errorMessage!,
      };
    }
    const value = r.value as unknown;
    if (r.variant !== undefined && (value === null ? 'null' : typeof value) !== type) {
      return {
        ...base,
        value: defaultValue,
        reason: 'ERROR',
        errorCode: ErrorCode.TYPE_MISMATCH,
        errorMessage: `flag ${key} served ${value === null ? 'null' : typeof value}, not ${type}`,
      };
    }
    return { ...base, value: r.value, ...(r.variant !== undefined ? { variant: r.variant } : {}), reason: r.reason };
  }
}
