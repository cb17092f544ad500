import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/circuit-breaker', async () => {
  expect(Object.keys(await import('@bulwark/circuit-breaker')).sort()).toMatchInlineSnapshot(`
    [
      "BrokenCircuitError",
      "CircuitBreakerPolicy",
      "circuitBreaker",
      "consecutive",
      "countWindow",
      "isBrokenCircuitError",
      "shedWhenOpenGuard",
      "timeWindow",
    ]
  `);
});
