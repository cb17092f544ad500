import { BulwarkError, isBulwarkError, type ExecuteContext, type PolicyFn } from '@bulwark/core';
import {
  BasePolicy,
  bulwarkChannel,
  clockSchema,
  Emitter,
  functionSchema,
  nameSchema,
  neverAbortedSignal,
  parseOptions,
  policyRun,
  type PolicyNext,
} from '@bulwark/core/internal';
import { systemClock, type Clock } from '@bulwark/core';
import { z } from 'zod';
import { chaos } from './chaos-switch.js';

/** Options every fault policy takes. */
export interface FaultOptions {
  /** Share of calls affected, 0–1. */
  rate: number;
  /** Random source in [0, 1): `Math.random` by default; `seededRandom(seed)` to replay, `scripted(plan)` to dictate. */
  random?: () => number;
  /** This policy's own switch, beside the global `chaos` one: a boolean or a function read per call (a flag). */
  enabled?: boolean | (() => boolean);
  /** A name for events. */
  name?: string;
}

/** Published when a fault policy injects (on `bulwark:testing:fault` too). */
export interface FaultEvent {
  readonly kind: 'fault' | 'latency' | 'outcome' | 'hang';
  readonly name: string | undefined;
}

const channel = bulwarkChannel<FaultEvent>('testing', 'fault');

/** The zod shape of {@link FaultOptions}, shared by every fault policy. */
export const faultOptionsShape = {
  rate: z.number().min(0).max(1),
  random: functionSchema<() => number>().default(() => Math.random),
  enabled: z.union([z.boolean(), functionSchema<() => boolean>()]).default(true),
  name: nameSchema.optional(),
};

/** The error `faults()` throws unless told otherwise. */
export class InjectedFaultError extends BulwarkError {
  declare readonly code: 'BULWARK_FAULT_INJECTED';
  constructor(name?: string) {
    super('BULWARK_FAULT_INJECTED', `fault injected${name ? ` by ${name}` : ''}`);
  }
}

/**
 * True when `error` was injected by `faults()` with its default error.
 *
 * @example
 * ```ts
 * if (isInjectedFault(err)) metrics.chaos.inc();
 * ```
 */
export function isInjectedFault(error: unknown): error is InjectedFaultError {
  return isBulwarkError(error, 'BULWARK_FAULT_INJECTED');
}

/** What a fault policy does to a call it picked. */
type Inject = <T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext) => T | PromiseLike<T>;

/** A policy that, for the share of calls `rate` picks while both switches are on, does `inject` instead. */
export class FaultPolicy extends BasePolicy {
  readonly #rate: number;
  readonly #random: () => number;
  readonly #enabled: boolean | (() => boolean);
  readonly #inject: Inject;
  readonly #event: FaultEvent;
  readonly #injected = new Emitter<FaultEvent>(channel);
  /** Calls `listener` each time this policy injects; returns a function that stops it. */
  readonly onInjected = this.#injected.on;
  declare readonly name: string | undefined;

  constructor(kind: FaultEvent['kind'], options: z.output<z.ZodObject<typeof faultOptionsShape>>, inject: Inject) {
    super();
    this.#rate = options.rate;
    this.#random = options.random;
    this.#enabled = options.enabled;
    this.#inject = inject;
    this.#event = { kind, name: options.name };
    Object.defineProperty(this, 'name', { value: options.name });
  }

  /** Runs one call through this layer: the run protocol of `@bulwark/core/internal`. @internal */
  [policyRun]<T>(fn: PolicyFn<T>, ctx: ExecuteContext, next: PolicyNext): T | PromiseLike<T> {
    const on = typeof this.#enabled === 'function' ? this.#enabled() : this.#enabled;
    if (!on || !chaos.enabled || !(this.#random() < this.#rate)) return next(fn, ctx);
    if (this.#injected.active) this.#injected.emit(this.#event);
    return this.#inject(fn, ctx, next);
  }
}

/** Parses a fault policy's options (the shared ones plus `extra`). */
export function parseFaultOptions<E extends z.ZodRawShape>(extra: E, input: unknown, where: string) {
  return parseOptions(z.object({ ...faultOptionsShape, ...extra }).strict(), input, where);
}

/** Waits `ms` on `clock`, or rejects with the signal's reason when it aborts first. */
export function wait(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal !== neverAbortedSignal && signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal !== neverAbortedSignal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The `clock` option of time-based fault policies. */
export const clockOption = { clock: clockSchema.default(() => systemClock) };
