import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore, rateLimiter, type Decision } from '@bulwark/rate-limiter';
import { redisStore, type RedisErrorPolicy, type StoreErrorEvent } from '@bulwark/rate-limiter/redis';
import { PrivateRedis, testPrefix } from '@bulwark/test-servers/redis';

/**
 * Kills a private redis-server under load and brings it back: each onError policy decides every call while it is
 * down, no call waits much past timeoutMs, nothing rejects unhandled (vitest fails the run on one), and decisions
 * come from Redis again after the restart without recreating anything.
 */
let server: PrivateRedis;
beforeAll(async () => {
  server = await PrivateRedis.create();
});
afterAll(async () => {
  await server.stop();
});

const TIMEOUT_MS = 150;
/** Generous allowance for a loaded CI machine; a call stuck on a dead socket would take seconds. */
const SLACK_MS = 700;

async function timed(decide: () => Promise<Decision>): Promise<{ d: Decision; ms: number }> {
  const started = performance.now();
  const d = await decide();
  return { d, ms: performance.now() - started };
}

describe.each<[string, () => RedisErrorPolicy]>([
  ['open', () => 'open'],
  ['closed', () => 'closed'],
  ['fallback', () => memoryStore()],
])('onError %s', (policy, makePolicy) => {
  it('decides by its policy while Redis is dead, within the timeout, and recovers after a restart', async () => {
    const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    client.on('error', () => undefined); // connection errors are expected here; the store reports them as events
    const store = redisStore({
      client,
      prefix: testPrefix(),
      timeoutMs: TIMEOUT_MS,
      onError: makePolicy(),
      errorBackoffMs: 100,
    });
    const events: StoreErrorEvent[] = [];
    store.onError((e) => events.push(e));
    const limiter = rateLimiter({ name: 'api', limit: 3, windowMs: 60_000, store });
    try {
      const healthy = await Promise.all(Array.from({ length: 5 }, (_, i) => limiter.consume(`k${i % 2}`)));
      expect(healthy.every((d) => d.error === undefined)).toBe(true);

      // calls in flight when the server dies settle too, in time
      const inflight = Promise.all(Array.from({ length: 30 }, () => timed(() => limiter.consume('k1'))));
      await server.stop();
      for (const { ms } of await inflight) expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      const down = await Promise.all(Array.from({ length: 30 }, () => timed(() => limiter.consume('k0'))));
      for (const { d, ms } of down) {
        expect(d.error).toBeDefined();
        expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      }
      const allowed = down.filter(({ d }) => d.allowed).length;
      if (policy === 'open') expect(allowed).toBe(30);
      if (policy === 'closed') expect(allowed).toBe(0);
      if (policy === 'fallback') expect(allowed).toBe(3); // the local store applies the same limit
      expect(events.length).toBeGreaterThanOrEqual(30);
      expect(new Set(events.map((e) => e.decidedBy))).toEqual(new Set([policy]));

      await server.start();
      await expect
        .poll(async () => (await limiter.consume('fresh-key')).error, { timeout: 10_000, interval: 100 })
        .toBeUndefined();
    } finally {
      client.disconnect();
    }
  }, 30_000);
});

describe('a late reply is not a dead Redis (issue 22)', () => {
  it('a 300 ms event-loop stall with a healthy Redis changes no decision', async () => {
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    const store = redisStore({ client, prefix: testPrefix(), timeoutMs: 50, onError: 'open', errorBackoffMs: 1_000 });
    const events: StoreErrorEvent[] = [];
    store.onError((e) => events.push(e));
    const limiter = rateLimiter({ name: 'stall', limit: 3, windowMs: 60_000, store });
    try {
      await limiter.consume('warm'); // connected, script loaded
      const decisions = Array.from({ length: 5 }, () => limiter.consume('k'));
      await new Promise((r) => setImmediate(r)); // the batch is sent: its replies are on their way
      // Synchronous work (a GC pause, a big JSON.stringify) while the replies arrive: every deadline passes.
      const until = performance.now() + 300;
      while (performance.now() < until);
      const settled = await Promise.all(decisions);
      expect(settled.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
      expect(settled.every((d) => d.error === undefined)).toBe(true);
      expect(events).toEqual([]);
      // and the store is not in backoff: the next decision comes from Redis too
      const after = await limiter.consume('k');
      expect([after.allowed, after.error]).toEqual([false, undefined]);
    } finally {
      client.disconnect();
    }
  });
});
