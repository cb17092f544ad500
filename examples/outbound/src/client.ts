import { bulkhead } from '@bulwark/bulkhead';
import { circuitBreaker, consecutive, isBrokenCircuitError } from '@bulwark/circuit-breaker';
import { compose, isTimeoutError, timeout } from '@bulwark/core';
import { exponential, retry, retryBudget } from '@bulwark/retry';

/** An HTTP error carrying the response, so retry can read its Retry-After. */
export class HttpError extends Error {
  constructor(readonly response: Response) {
    super(`upstream answered ${response.status}`);
  }
}

/**
 * The outbound stack, outermost first: retry (with a shared budget; honours Retry-After; waits for an open circuit
 * rather than failing at once), a circuit breaker, a bulkhead, and a per-attempt timeout. Every layer reports what it does through `log`.
 */
export function createClient(url: string, log: (line: string) => void) {
  const budget = retryBudget({ ratio: 0.5, minPerSecond: 2 });
  const retries = retry({
    name: 'upstream',
    maxAttempts: 3,
    backoff: exponential({ baseMs: 50, maxMs: 400, jitter: 'full' }),
    maxDelayMs: 1_500,
    waitForCircuit: true, // an open circuit is waited for (up to maxDelayMs), not failed at once
    budget,
  });
  const breaker = circuitBreaker({ name: 'upstream', window: consecutive(3), openMs: 600 });
  const pool = bulkhead({ name: 'upstream', maxConcurrent: 4, maxQueue: 8 });
  const deadline = timeout(250, { name: 'upstream' });

  retries.onRetry(({ attempt, delayMs, delaySource, outcome }) =>
    log(`  retry     attempt ${attempt} in ${Math.round(delayMs)} ms (${delaySource}) after ${describe(outcome)}`),
  );
  retries.onGiveUp(({ attempts, reason }) => log(`  retry     gave up after ${attempts} attempt(s): ${reason}`));
  breaker.onStateChange(({ from, to, openMs }) =>
    log(`  breaker   ${from} → ${to}${openMs ? ` for ${openMs} ms` : ''}`),
  );
  pool.onRejected(({ reason }) => log(`  bulkhead  rejected: ${reason}`));
  deadline.onTimeout(({ timeoutMs }) => log(`  timeout   attempt cut off at ${timeoutMs} ms`));

  const policy = compose(retries, breaker, pool, deadline);
  return {
    breaker,
    get: () =>
      policy.execute(async ({ signal }) => {
        const res = await fetch(url, { signal });
        if (!res.ok) throw new HttpError(res);
        return (await res.json()) as { n: number };
      }),
  };
}

function describe(outcome: { kind: 'value' | 'error'; error?: unknown }): string {
  if (outcome.kind === 'value') return 'a value';
  const e = outcome.error;
  if (isTimeoutError(e)) return 'a timeout';
  if (isBrokenCircuitError(e)) return `an open circuit (${e.state})`;
  return e instanceof Error ? e.message : String(e);
}
