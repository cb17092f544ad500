import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { circuitBreaker } from '@bulwark/circuit-breaker';
import {
  breakerModelConfig,
  breakerOptionsFor,
  CircuitBreakerModel,
  circuitBreakerCommands,
  manualClock,
} from '../src/index.js';

// @bulwark/circuit-breaker's model test, run through the public harness a user would use on their own breaker.
describe('circuit breaker against its reference model (fc.modelRun)', () => {
  it('admits, refuses and changes state exactly as the reference state machine, with overlapping calls (property)', () => {
    fc.assert(
      fc.property(breakerModelConfig(), circuitBreakerCommands(), (config, commands) => {
        const { clock, advance } = manualClock();
        const breaker = circuitBreaker({ ...breakerOptionsFor(config), clock });
        fc.modelRun(
          () => ({ model: new CircuitBreakerModel(config), real: { breaker, clock, advance, inFlight: [] } }),
          commands,
        );
      }),
      { numRuns: 1_000 },
    );
  });

  it('the harness catches a breaker that differs from the model', () => {
    // A "breaker" configured to open after 3 consecutive failures, checked against a model that says 2.
    const config = {
      ...fc.sample(breakerModelConfig(), { numRuns: 1, seed: 5 })[0]!,
      window: { kind: 'consecutive' as const, n: 2 },
    };
    const wrong = { ...config, window: { kind: 'consecutive' as const, n: 3 } };
    let error: unknown;
    try {
      fc.assert(
        fc.property(circuitBreakerCommands(), (commands) => {
          const { clock, advance } = manualClock();
          const breaker = circuitBreaker({ ...breakerOptionsFor(wrong), clock });
          fc.modelRun(
            () => ({ model: new CircuitBreakerModel(config), real: { breaker, clock, advance, inFlight: [] } }),
            commands,
          );
        }),
        { numRuns: 500, seed: 1 },
      );
    } catch (e) {
      error = e;
    }
    // fast-check reports the shrunk command list; the cause says which comparison failed.
    expect(((error as Error).cause as Error).message).toMatch(/^after (start|finish \w+|advance \d+) at \d+: .*model/);
  });
});
