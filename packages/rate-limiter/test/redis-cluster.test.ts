import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { memoryStore, rateLimiter, rateLimits } from '@bulwark/rate-limiter';
import { redisStore } from '@bulwark/rate-limiter/redis';
import { privateCluster, testPrefix } from '@bulwark/test-servers/redis';

/**
 * Against a real three-master Redis Cluster: all keys of one request share a slot (no CROSSSLOT), the script loads
 * on whichever node owns a key (EVALSHA → NOSCRIPT → EVAL per node), and calls are not batched across nodes.
 */
let cluster: Awaited<ReturnType<typeof privateCluster>>;
let client: Cluster;
beforeAll(async () => {
  cluster = await privateCluster();
  client = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], { redisOptions: { maxRetriesPerRequest: 2 } });
  await client.ping();
}, 30_000);
afterAll(async () => {
  client.disconnect();
  await cluster.stop();
});

it('decides several limits per key on a Cluster, for keys spread over every node, exactly like the memory store', async () => {
  const store = redisStore({ client, prefix: testPrefix() });
  const mem = memoryStore();
  const limits = rateLimits([
    rateLimiter({ name: 'second', algorithm: 'sliding-window', limit: 2, windowMs: 60_000, store }),
    rateLimiter({ name: 'minute', limit: 3, windowMs: 60_000, blockMs: 5_000, store }),
  ]);
  const reference = rateLimits([
    rateLimiter({ name: 'second', algorithm: 'sliding-window', limit: 2, windowMs: 60_000, store: mem }),
    rateLimiter({ name: 'minute', limit: 3, windowMs: 60_000, blockMs: 5_000, store: mem }),
  ]);
  const keys = Array.from({ length: 30 }, (_, i) => `client-${i}`);
  const slots = new Set<number>();
  for (const key of keys) {
    const decisions = await Promise.all([1, 2, 3].map(() => limits.consume(key)));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(decisions.map((d) => d.allowed)).toEqual([1, 2, 3].map(() => reference.consume(key).allowed));
    expect(decisions.every((d) => d.error === undefined)).toBe(true);
    const node = client.nodes('master').find((n) => n.options.port !== undefined);
    slots.add(Number(await node!.cluster('KEYSLOT', `{${key}}`)));
  }
  expect(slots.size).toBeGreaterThan(10); // the keys really are spread over the slot space
  // concurrent calls for keys on different nodes: never combined into one script run (CROSSSLOT)
  const peeks = await Promise.all(keys.map((key) => limits.peek(key)));
  expect(peeks.map((d) => [d.allowed, d.error])).toEqual(keys.map(() => [false, undefined]));
});

it('200 parallel clients on one key of a Cluster never get more than the limit', async () => {
  const l = rateLimiter({ limit: 25, windowMs: 60_000, store: redisStore({ client, prefix: testPrefix() }) });
  const decisions = await Promise.all(Array.from({ length: 200 }, () => l.consume('hot')));
  expect(decisions.filter((d) => d.allowed)).toHaveLength(25);
});
