/** Retry cases: the success path, and one failure then success with no delay (the retry machinery itself). */
import { constant, retry } from '@bulwark/retry';
import { ConstantBackoff, ExponentialBackoff, handleAll, retry as cockatielRetry } from 'cockatiel';
import pRetry from 'p-retry';

const work = async (): Promise<number> => 1;

function failOnce(): () => Promise<number> {
  let n = 0;
  return () => (n++ % 2 === 0 ? Promise.reject(new Error('transient')) : Promise.resolve(1));
}

export const cases: Record<string, () => () => Promise<unknown>> = {
  'await (floor)': () => () => work(),
  'bulwark retry, success': () => {
    const p = retry({ maxAttempts: 3 });
    return () => p.execute(work);
  },
  'cockatiel retry, success': () => {
    const p = cockatielRetry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() });
    return () => p.execute(work);
  },
  'p-retry, success': () => () => pRetry(work, { retries: 2 }),
  'bulwark retry, fail once (0 ms backoff)': () => {
    const p = retry({ maxAttempts: 3, backoff: constant(0) });
    const fn = failOnce();
    return () => p.execute(fn);
  },
  'cockatiel retry, fail once (0 ms backoff)': () => {
    const p = cockatielRetry(handleAll, { maxAttempts: 2, backoff: new ConstantBackoff(0) });
    const fn = failOnce();
    return () => p.execute(fn);
  },
  'p-retry, fail once (0 ms backoff)': () => {
    const fn = failOnce();
    return () => pRetry(fn, { retries: 2, minTimeout: 0, factor: 1 });
  },
};
