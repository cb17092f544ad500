import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compose, timeout } from '@bulwark/core';
import { featureFlags } from '@bulwark/feature-flags';
import { rateLimiter } from '@bulwark/rate-limiter';
import { constant, retry } from '@bulwark/retry';
import {
  chaos,
  faults,
  manualClock,
  outcomeSchedule,
  rateLimiterOptionsFor,
  rateLimitModel,
  requestStream,
  runSchedule,
  VirtualClock,
} from '../src/index.js';

// The README's recipes, run as written there.

describe('recipes', () => {
  it('a service call tested under generated failure schedules', async () => {
    // The code under test: a client that retries and gives each attempt 250 ms.
    const makeClient = (clock: VirtualClock) => {
      const policy = compose(retry({ maxAttempts: 4, backoff: constant(100), clock }), timeout(250, { clock }));
      return (callUpstream: (signal: AbortSignal) => Promise<unknown>) =>
        policy.execute(({ signal }) => callUpstream(signal));
    };
    await fc.assert(
      fc.asyncProperty(outcomeSchedule({ maxCalls: 10 }), async (schedule) => {
        const clock = new VirtualClock();
        const client = makeClient(clock);
        const results = await runSchedule({ clock, schedule, run: (upstream) => client(upstream) });
        for (const [i, r] of results.entries()) {
          expect(r.status).not.toBe('pending'); // nothing hangs forever
          expect(r.settledAt! - r.at).toBeLessThanOrEqual(4 * 250 + 3 * 100 + 3 * 5001); // the latency budget holds
          // a call whose first four attempts all fail, fails; one with a success among them succeeds
          const firstOk = schedule[i]!.attempts.findIndex((a) => a.kind === 'success' && a.delayMs < 250);
          if (schedule[i]!.attempts.length === 0) expect(r.status).toBe('fulfilled');
          if (firstOk === 0) expect(r.status).toBe('fulfilled');
        }
      }),
      { numRuns: 100 },
    );
  });

  it('"my limiter never over-admits" as a property, against the reference model', () => {
    fc.assert(
      fc.property(requestStream({ horizonMs: 5_000 }), (stream) => {
        const params = { algorithm: 'sliding-window' as const, limit: 5, windowMs: 1_000, burst: 5 };
        const { clock, advance } = manualClock();
        const limiter = rateLimiter({ ...rateLimiterOptionsFor(params), clock });
        const model = rateLimitModel(params);
        for (const r of stream) {
          advance(r.at - clock.now());
          const d = limiter.consume(r.key, { cost: r.cost });
          const expected = model.decide(r.key, r.cost, r.at);
          expect(d.allowed).toBe(expected.allowed);
          if (expected.allowed) model.commit(r.key, r.cost, r.at);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('chaos in staging, behind a flag and the global switch', async () => {
    const flags = featureFlags({ flags: { flags: { 'chaos.orders-db': { enabled: false } } }, env: false });
    const dbChaos = faults({ rate: 1, enabled: () => flags.isEnabled('chaos.orders-db'), name: 'orders-db' });
    const query = (sql: string) => dbChaos.execute(() => `rows for ${sql}`);
    expect(await query('select 1')).toBe('rows for select 1');
    await flags.set('chaos.orders-db', { enabled: true });
    await expect(query('select 1')).rejects.toThrow('fault injected by orders-db');
    chaos.disable(); // the kill switch: every fault policy passes through
    expect(await query('select 1')).toBe('rows for select 1');
    chaos.enable();
    await flags.close();
  });
});
