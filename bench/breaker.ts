/**
 * Circuit-breaker cases. The failure path alternates failures and successes under a 90% threshold, so the circuit
 * stays closed and every call pays for recording its outcome; windows of 100, 1,000 and 10,000 calls show that cost
 * does not grow with the window.
 */
import { bulkhead } from '@bulwark/bulkhead';
import { circuitBreaker, consecutive, countWindow } from '@bulwark/circuit-breaker';
import { compose, timeout } from '@bulwark/core';
import { retry } from '@bulwark/retry';
import {
  bulkhead as cockatielBulkhead,
  circuitBreaker as cockatielBreaker,
  ConsecutiveBreaker,
  CountBreaker,
  ExponentialBackoff,
  handleAll,
  retry as cockatielRetry,
  timeout as cockatielTimeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import CircuitBreaker from 'opossum';

const work = async (): Promise<number> => 1;
const failure = new Error('dependency failed'); // made once: measure the breaker, not Error's stack capture

function alternating(): () => Promise<number> {
  let n = 0;
  return () => (n++ % 2 === 0 ? Promise.reject(failure) : Promise.resolve(1));
}
const swallow = (p: Promise<unknown>) => p.catch(() => 0);

export const cases: Record<string, () => () => unknown> = {
  'await (floor)': () => () => work(),
  // The least any wrapper that records an async outcome can cost: one more reaction on the function's promise.
  'await + one side reaction (observing the outcome)': () => {
    const noop = (): void => {};
    return () => {
      const p = work();
      p.then(noop, noop);
      return p;
    };
  },
  'bulwark breaker (consecutive), success': () => {
    const b = circuitBreaker({ window: consecutive(5) });
    return () => b.execute(work);
  },
  'cockatiel breaker (consecutive), success': () => {
    const b = cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
    return () => b.execute(work);
  },
  'opossum (defaults), success': () => {
    const b = new CircuitBreaker(work);
    return () => b.fire();
  },
  ...Object.fromEntries(
    [100, 1_000, 10_000].map((size) => [
      `bulwark breaker, failure path, window ${size}`,
      () => {
        const b = circuitBreaker({ window: countWindow({ size, minimumCalls: size }), failureRateThreshold: 0.9 });
        const fn = alternating();
        return () => swallow(b.execute(fn));
      },
    ]),
  ),
  'cockatiel breaker, failure path, window 1000': () => {
    const b = cockatielBreaker(handleAll, {
      halfOpenAfter: 10_000,
      breaker: new CountBreaker({ threshold: 0.9, size: 1_000 }),
    });
    const fn = alternating();
    return () => swallow(b.execute(fn));
  },
  'opossum, failure path (90% threshold)': () => {
    const fn = alternating();
    const b = new CircuitBreaker(fn, { errorThresholdPercentage: 90, volumeThreshold: 1_000 });
    return () => swallow(b.fire());
  },
  // shedWhenOpen's path: a permit per request. A refusal, what a service under stress meets, must cost no more.
  'bulwark breaker tryAcquire, admitted (closed)': () => {
    const b = circuitBreaker({ window: consecutive(5) });
    return () => b.tryAcquire()?.success();
  },
  'bulwark breaker tryAcquire, refused (open)': () => {
    const b = circuitBreaker({ window: consecutive(1), openMs: 2_000_000_000 });
    b.tryAcquire()?.failure();
    return () => b.tryAcquire();
  },
  'bulwark compose(retry, breaker, bulkhead, timeout)': () => {
    const p = compose(
      retry({ maxAttempts: 3 }),
      circuitBreaker({ window: consecutive(5) }),
      bulkhead({ maxConcurrent: 10, maxQueue: 100 }),
      timeout(10_000),
    );
    return () => p.execute(work);
  },
  'cockatiel wrap(retry, breaker, bulkhead, timeout)': () => {
    const p = wrap(
      cockatielRetry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() }),
      cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
      cockatielBulkhead(10, 100),
      cockatielTimeout(10_000, TimeoutStrategy.Cooperative),
    );
    return () => p.execute(work);
  },
};
