import { z } from 'zod';
import { systemClock, type Clock, type OutcomeClass } from '@bulwark/core';
import {
  clockSchema,
  functionSchema,
  maxTimerMs,
  methodsSchema,
  nameSchema,
  type CallOutcome,
} from '@bulwark/core/internal';
import { countWindow, type WindowFactory } from './windows.js';

/** Open duration: fixed ms, a function of how many times in a row the circuit opened, or a retry `Backoff`. */
export type OpenDuration =
  | number
  | ((opens: number) => number)
  | {
      /** A `Backoff` from `@bulwark/retry`: the open time after the `n`th opening in a row, in ms. */
      delay(n: number, previousMs: number, random: () => number): number;
    };

/** Options for {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Default `countWindow({ size: 100, minimumCalls: 20 })`. */
  window?: WindowFactory;
  /** Failure rate that opens the circuit, as a fraction of the window's calls in (0, 1], to 0.0001. Default 0.5. */
  failureRateThreshold?: number;
  /** A call taking at least this long counts as slow. Default: no slow-call tracking. */
  slowCallDurationMs?: number;
  /** Slow-call rate that opens the circuit, as a fraction of the window's calls in (0, 1], to 0.0001. Default 1. */
  slowCallRateThreshold?: number;
  /** How long the circuit stays open before a trial. Default 30,000 ms. */
  openMs?: OpenDuration;
  /** Half-open trials. */
  halfOpen?: {
    /** Trial calls admitted at once. Default 1. */
    permittedCalls?: number;
    /** Trial successes needed to close. Default `permittedCalls`. */
    successThreshold?: number;
    /** If the trials have not decided by then, open again. Default 60,000 ms. */
    maxHalfOpenMs?: number;
  };
  /**
   * Classifies outcomes. Default: values succeed; errors fail, except the caller's own abort and other
   * resilience rejections (bulkhead full, rate limited, another circuit open), which are ignored.
   */
  isFailure?: FailureClassifier;
  /**
   * Count outcomes and refusals and keep a latency histogram (bounded: 2 KB), read with `stats()`. Default `false`:
   * timing every call costs two clock reads, which a breaker without a time window or slow calls never pays.
   */
  stats?: boolean;
  /** State saved by `toJSON()`, e.g. across serverless cold starts. */
  initialState?: CircuitBreakerSnapshot;
  clock?: Clock;
  name?: string;
}

/** What `toJSON()` saves: the state machine, with times as remaining durations and a wall-clock stamp. */
export interface CircuitBreakerSnapshot {
  readonly state: 'closed' | 'open' | 'half-open';
  /** Times the circuit opened in a row (drives a growing open duration). */
  readonly opens: number;
  /** For `open`: ms left at `savedAt`. */
  readonly remainingMs: number;
  /** `Date.now()` when saved. */
  readonly savedAt: number;
}

/**
 * Classifies an outcome for the breaker; `true` means failure, `false` success. `handleType()`, `handleWhen()` and
 * `handleResult()` from `@bulwark/core` build one.
 */
export type FailureClassifier = (outcome: CallOutcome<unknown>) => OutcomeClass | boolean;

// Every rate in Bulwark is a fraction (a retry budget's ratio, a heap check's warnRatio). A percent (50) is refused
// rather than read as 50 of a possible 1.
const rateSchema = z
  .number({ message: 'expected a fraction of the calls, e.g. 0.5 for half' })
  .gt(0, { message: 'must be a fraction in (0, 1], e.g. 0.5 for half' })
  .max(1, { message: 'must be a fraction in (0, 1], e.g. 0.5 for half (not a percent)' });

type Backoff = { delay(n: number, previousMs: number, random: () => number): number };

/** Every form of `openMs` as one function of (opens in a row, the previous open duration). */
function openDuration(open: OpenDuration): (opens: number, previousMs: number) => number {
  if (typeof open === 'number') return () => open;
  if (typeof open === 'function') return (n) => open(n);
  return (n, previousMs) => open.delay(n, previousMs, Math.random);
}

/** The breaker's options, every default applied here; what the constructor reads. */
export const circuitBreakerOptionsSchema = z
  .object({
    window: methodsSchema<WindowFactory>(['create'], 'expected consecutive(), countWindow() or timeWindow()').default(
      () => countWindow({ size: 100, minimumCalls: 20 }),
    ),
    failureRateThreshold: rateSchema.default(0.5),
    // No slow-call tracking unless asked: a call never takes Infinity ms.
    slowCallDurationMs: z.number().positive().default(Infinity),
    slowCallRateThreshold: rateSchema.default(1),
    openMs: z
      .union([
        z.number().positive().max(maxTimerMs),
        functionSchema<(opens: number) => number>(),
        methodsSchema<Backoff>(['delay'], 'expected ms, (opens) => ms, or a Backoff'),
      ])
      .default(30_000)
      .transform(openDuration),
    halfOpen: z
      .object({
        permittedCalls: z.number().int().min(1).max(10_000).default(1),
        successThreshold: z.number().int().min(1).optional(),
        maxHalfOpenMs: z.number().positive().default(60_000),
      })
      .strict()
      .default({ permittedCalls: 1, maxHalfOpenMs: 60_000 })
      .refine((h) => (h.successThreshold ?? h.permittedCalls) <= h.permittedCalls, {
        message: 'successThreshold cannot exceed permittedCalls',
        path: ['successThreshold'],
      })
      .transform((h) => ({ ...h, successThreshold: h.successThreshold ?? h.permittedCalls })),
    // Unset means the built-in classification, which the breaker runs inline (no call on the hot path).
    isFailure: functionSchema<FailureClassifier>().optional(),
    initialState: z
      .object({
        state: z.enum(['closed', 'open', 'half-open']),
        opens: z.number().int().min(0),
        remainingMs: z.number().min(0),
        savedAt: z.number(),
      })
      .optional(),
    stats: z.boolean().default(false),
    clock: clockSchema.default(() => systemClock),
    name: nameSchema.optional(),
  })
  .strict();
