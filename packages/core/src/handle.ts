import type { CallOutcome } from './policy.js';

/** How an outcome counts. `ignore`d outcomes count neither way (a breaker gives back a half-open trial slot). */
export type OutcomeClass = 'success' | 'failure' | 'ignore';

/**
 * Which outcomes are failures, built with {@link handleAll}, {@link handleType}, {@link handleWhen} and
 * {@link handleResult} (cockatiel's builders). Call it with an outcome: a handled error or result is `'failure'`;
 * any other value is `'success'`; any other error is `'ignore'`, as cockatiel lets errors it does not handle pass
 * through uncounted. Give it as a breaker's `isFailure` or a retry's `retryOn` (which retries `'failure'`s only).
 */
export interface FailureFilter {
  (outcome: CallOutcome<unknown>): OutcomeClass;
  /** Also handle errors that are instances of `type` (and pass `predicate`, when given). */
  orType<E>(type: abstract new (...args: never[]) => E, predicate?: (error: E) => boolean): FailureFilter;
  /** Also handle errors for which `predicate` is true. */
  orWhen(predicate: (error: unknown) => boolean): FailureFilter;
  /** Also handle results (values) for which `predicate` is true, e.g. a 503 response. */
  orResult<R = unknown>(predicate: (value: R) => boolean): FailureFilter;
}

type Test = (outcome: CallOutcome<unknown>) => boolean;

function filter(tests: readonly Test[]): FailureFilter {
  const classify = (outcome: CallOutcome<unknown>): OutcomeClass => {
    for (const test of tests) if (test(outcome)) return 'failure';
    return outcome.kind === 'value' ? 'success' : 'ignore';
  };
  const more = (test: Test) => filter([...tests, test]);
  return Object.assign(classify, {
    orType: <E>(type: abstract new (...args: never[]) => E, predicate?: (error: E) => boolean) =>
      more(typeTest(type, predicate)),
    orWhen: (predicate: (error: unknown) => boolean) => more(errorTest(predicate)),
    orResult: <R>(predicate: (value: R) => boolean) => more(resultTest(predicate)),
  });
}

const errorTest =
  (predicate: (error: unknown) => boolean): Test =>
  (o) =>
    o.kind === 'error' && predicate(o.error);

const typeTest = <E>(type: abstract new (...args: never[]) => E, predicate?: (error: E) => boolean): Test =>
  errorTest((e) => e instanceof type && (predicate === undefined || predicate(e)));

const resultTest =
  <R>(predicate: (value: R) => boolean): Test =>
  (o) =>
    o.kind === 'value' && predicate(o.value as R);

/**
 * Every error is a failure; every value a success.
 *
 * @example
 * ```ts
 * retry({ retryOn: handleAll() });
 * ```
 */
export function handleAll(): FailureFilter {
  return filter([(o) => o.kind === 'error']);
}

/**
 * Errors that are instances of `type` (and pass `predicate`) are failures; other errors pass uncounted.
 *
 * @example
 * ```ts
 * const failures = handleType(FetchError).orType(Error, (e) => e.message.includes('ECONNRESET'));
 * circuitBreaker({ isFailure: failures });
 * ```
 */
export function handleType<E>(
  type: abstract new (...args: never[]) => E,
  predicate?: (error: E) => boolean,
): FailureFilter {
  return filter([typeTest(type, predicate)]);
}

/**
 * Errors for which `predicate` is true are failures; other errors pass uncounted.
 *
 * @example
 * ```ts
 * retry({ retryOn: handleWhen((e) => (e as NodeJS.ErrnoException).code === 'ECONNRESET') });
 * ```
 */
export function handleWhen(predicate: (error: unknown) => boolean): FailureFilter {
  return filter([errorTest(predicate)]);
}

/**
 * Results (values) for which `predicate` is true are failures, such as a response with status 503; chain
 * `.orWhen()` / `.orType()` to count errors too (alone, it lets every error pass uncounted).
 *
 * @example
 * ```ts
 * const failures = handleResult<Response>((res) => res.status >= 500).orWhen(() => true);
 * retry({ retryOn: failures });
 * ```
 */
export function handleResult<R = unknown>(predicate: (value: R) => boolean): FailureFilter {
  return filter([resultTest(predicate)]);
}
