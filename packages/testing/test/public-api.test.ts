import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/testing', async () => {
  expect(Object.keys(await import('@bulwark/testing')).sort()).toMatchInlineSnapshot(`
    [
      "CircuitBreakerModel",
      "FaultPolicy",
      "InjectedFaultError",
      "ScheduledFailure",
      "VirtualClock",
      "assertIdle",
      "breakerModelConfig",
      "breakerOptionsFor",
      "bulkheadModel",
      "bulkheadOptions",
      "chaos",
      "circuitBreakerCommands",
      "circuitBreakerOptions",
      "faultProxy",
      "faults",
      "flakyUpstream",
      "hang",
      "healthBehaviours",
      "isInjectedFault",
      "latency",
      "manualClock",
      "outcome",
      "outcomeSchedule",
      "rateLimitModel",
      "rateLimiterOptions",
      "rateLimiterOptionsFor",
      "requestStream",
      "retryModel",
      "retryOptions",
      "runSchedule",
      "scripted",
      "seededRandom",
      "timeoutOptions",
    ]
  `);
});
