import { z } from 'zod';
import { maxTimerMs, parseOptions } from '@bulwark/core/internal';

/**
 * How long to wait before retry number `retry` (1 for the first retry). `previousMs` is the delay used before the
 * previous retry (0 before the first), for decorrelated jitter; `random` returns a number in [0, 1).
 */
export interface Backoff {
  /** The wait before retry number `retry` (from 1), in ms, given the previous wait. */
  delay(retry: number, previousMs: number, random: () => number): number;
}

/** Jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"), with `v = min(maxMs, baseMs * factor^(n-1))`. */
export type Jitter =
  /** exactly `v` */
  | 'none'
  /** uniform in [0, v]: spreads retries most, the AWS recommendation */
  | 'full'
  /** `v/2` plus uniform in [0, v/2]: never shorter than half */
  | 'equal'
  /** `min(maxMs, uniform in [baseMs, previous × 3])`: grows from the previous delay, not the attempt number */
  | 'decorrelated';

const ms = z.number().min(0, { message: 'must be >= 0' }).max(maxTimerMs);

/**
 * The same delay before every retry.
 *
 * @example
 * ```ts
 * retry({ backoff: constant(250) });
 * ```
 */
export function constant(delayMs: number): Backoff {
  const d = parseOptions(z.object({ delayMs: ms }), { delayMs }, 'constant()').delayMs;
  return { delay: () => d };
}

/** Options for {@link linear}. */
export interface LinearOptions {
  baseMs: number;
  /** Added per retry; default `baseMs`. */
  stepMs?: number;
  /** Cap; default 30,000. */
  maxMs?: number;
}

/**
 * `baseMs + stepMs × (n − 1)`, capped at `maxMs`.
 *
 * @example
 * ```ts
 * retry({ backoff: linear({ baseMs: 100, stepMs: 200 }) }); // 100, 300, 500, ...
 * ```
 */
export function linear(options: LinearOptions): Backoff {
  const o = parseOptions(
    z
      .object({ baseMs: ms, stepMs: ms.optional(), maxMs: ms.default(30_000) })
      .strict()
      .transform((o) => ({ ...o, stepMs: o.stepMs ?? o.baseMs })),
    options,
    'linear()',
  );
  return { delay: (n) => Math.min(o.maxMs, o.baseMs + o.stepMs * (n - 1)) };
}

/** Options for {@link exponential}. */
export interface ExponentialOptions {
  /** First delay before jitter; default 100. */
  baseMs?: number;
  /** Growth per retry; default 2. */
  factor?: number;
  /** Cap; default 30,000. */
  maxMs?: number;
  /** Default `'full'`. */
  jitter?: Jitter;
}

/**
 * Exponential backoff with jitter: `min(maxMs, baseMs × factor^(n−1))`, then the chosen {@link Jitter}.
 *
 * @example
 * ```ts
 * retry({ backoff: exponential({ baseMs: 50, maxMs: 5_000, jitter: 'decorrelated' }) });
 * ```
 */
export function exponential(options: ExponentialOptions = {}): Backoff {
  const o = parseOptions(
    z
      .object({
        baseMs: ms.default(100),
        factor: z.number().min(1, { message: 'must be >= 1' }).max(100).default(2),
        maxMs: ms.default(30_000),
        jitter: z.enum(['none', 'full', 'equal', 'decorrelated']).default('full'),
      })
      .strict(),
    options,
    'exponential()',
  );
  const { baseMs, factor, maxMs, jitter } = o;
  const ceiling = (n: number) => Math.min(maxMs, baseMs * factor ** (n - 1));
  switch (jitter) {
    case 'none':
      return { delay: (n) => ceiling(n) };
    case 'full':
      return { delay: (n, _p, random) => random() * ceiling(n) };
    case 'equal':
      return {
        delay: (n, _p, random) => {
          const v = ceiling(n);
          return v / 2 + random() * (v / 2);
        },
      };
    case 'decorrelated':
      return {
        delay: (_n, previous, random) => {
          const from = Math.min(baseMs, maxMs);
          const to = Math.max(from, (previous || baseMs) * 3);
          return Math.min(maxMs, from + random() * (to - from));
        },
      };
  }
}
