import { parse as parseDurationText } from '@lukeed/ms';
import { z } from 'zod';
import { BulwarkConfigError } from './errors.js';
import type { Clock } from './clock.js';

/**
 * zod schemas shared by every package's options, so `clock`, `name` and durations are validated and described the
 * same way everywhere.
 */

/**
 * An object option recognised by the methods it has (a limiter, a Redis client, a registry), checked with `typeof`
 * and passed through as is: the one duck check every package uses, so they all accept the same things (another
 * copy of a package, a test double) and say the same thing when they do not.
 *
 * @example
 * ```ts
 * const schema = z.object({ budget: methodsSchema<RetryBudget>(['tryAcquireRetry'], 'expected a RetryBudget from retryBudget()') });
 * ```
 */
export function methodsSchema<T>(methods: readonly string[], message: string) {
  return z.custom<T>(
    (value) =>
      (typeof value === 'object' || typeof value === 'function') &&
      value !== null &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
    { message },
  );
}

/**
 * A {@link Clock}: an object with `now`, `setTimeout` and `clearTimeout` functions. Default it with
 * `.default(() => systemClock)`: zod 4 shallow-copies an object given as a default value, so two limiters would
 * each get their own copy of the system clock.
 */
export const clockSchema = methodsSchema<Clock>(
  ['now', 'setTimeout', 'clearTimeout'],
  'expected a Clock with now(), setTimeout() and clearTimeout()',
);

/**
 * A function option, checked with `typeof` and passed through as is. (`z.function()` replaces the value with a
 * validating wrapper: a cost on every call and a different identity.)
 *
 * @example
 * ```ts
 * const schema = z.object({ run: functionSchema<(signal: AbortSignal) => unknown>() });
 * ```
 */
export function functionSchema<T extends (...args: never[]) => unknown>() {
  return z.custom<T>((value) => typeof value === 'function', { message: 'expected a function' });
}

/** Longest delay a Node timer honours (about 24.8 days); longer ones fire after 1 ms. */
export const maxTimerMs = 2_147_483_647;

/** A duration in milliseconds usable as a timer delay: finite, > 0, at most {@link maxTimerMs}. */
export const durationMsSchema = z
  .number({ message: 'expected a number of milliseconds' })
  .positive({ message: 'must be greater than 0' })
  .max(maxTimerMs, { message: `must be at most ${maxTimerMs} ms (the longest timer Node honours)` });

const durationMessage = 'expected milliseconds or a time string such as "1 minute"';

/**
 * A window or penalty length: milliseconds, or a time string as @fastify/rate-limit takes (`'1 minute'`, `'10s'`,
 * `'1.5h'`, `'2 days'`), parsed once at construction into milliseconds. Chain `.pipe()` for bounds.
 *
 * @example
 * ```ts
 * const schema = z.object({ windowMs: durationInputSchema.pipe(z.number().positive()) });
 * parseOptions(schema, { windowMs: '1 minute' }, 'x()').windowMs; // 60000
 * ```
 */
export const durationInputSchema = z.unknown().transform((value, ctx): number => {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') {
    ctx.addIssue({ code: 'invalid_type', expected: 'number', input: value, message: durationMessage });
    return z.NEVER;
  }
  const ms = parseDurationText(value);
  if (ms === undefined || !Number.isFinite(ms)) {
    ctx.addIssue({
      code: 'custom',
      message: `not a time: ${JSON.stringify(value)} (try "30s", "1 minute", "2 hours")`,
    });
    return z.NEVER;
  }
  return ms;
});

/** A name for telemetry labels: short, printable. */
export const nameSchema = z
  .string()
  .min(1, { message: 'must not be empty' })
  .max(100, { message: 'must be at most 100 characters' });

/**
 * Validates options once, at construction, and turns zod's issues into a {@link BulwarkConfigError} that names
 * each bad field. Every Bulwark factory calls this; per-call paths never validate. `at` is the path of `input` in
 * the options the user wrote, when it is a part of them validated on its own (`checks.2` for one health check).
 *
 * @example
 * ```ts
 * const schema = z.object({ limit: z.number().int().positive() });
 * const opts = parseOptions(schema, input, 'rateLimiter()'); // throws BulwarkConfigError naming "limit"
 * ```
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: string,
  at: readonly string[] = [],
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new BulwarkConfigError(
    where,
    result.error.issues.flatMap((issue) => {
      const path = [...at, ...issue.path.map(String)];
      if (issue.path.length === 0 && issue.code === 'invalid_type' && issue.expected === 'object') {
        return [{ field: path.join('.'), message: notAnObject(schema, input) }];
      }
      // zod reports unknown keys on their parent; name each key itself, which is what a user needs to fix.
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({ field: [...path, key].join('.'), message: 'unknown option' }));
      }
      return [{ field: path.join('.'), message: issue.message }];
    }),
  );
}

/**
 * "expected an options object with limit, windowMs; got undefined". The required fields are those `{}` lacks: every
 * field is undefined there, so a type issue on one means it is required.
 */
function notAnObject(schema: z.ZodType, input: unknown): string {
  const empty = schema.safeParse({});
  const required = empty.success
    ? []
    : empty.error.issues.filter((i) => i.code === 'invalid_type' && i.path.length === 1).map((i) => String(i.path[0]));
  const got = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input;
  return `expected an options object${required.length > 0 ? ` with ${required.join(', ')}` : ''}; got ${got}`;
}
