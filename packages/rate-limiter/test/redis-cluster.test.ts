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

it('refuses batch: true on a Cluster at construction', () => {
  expect(() => redisStore({ client, batch: true })).toThrow(/cannot batch on a Redis Cluster/);
});

it('a dead master leaves every key on the other masters exactly limited (issue 22)', async () => {
  // Its own cluster: this one loses a master.
  const own = await privateCluster();
  const c = new Cluster([{ host: '127.0.0.1', port: own.ports[0]! }], {
    redisOptions: { maxRetriesPerRequest: 1 },
    clusterRetryStrategy: () => 100,
  });
  c.on('error', () => undefined); // the dead node's connection errors are expected
  try {
    await c.ping();
    const store = redisStore({ client: c, prefix: 'rl:', timeoutMs: 300, onError: 'closed', errorBackoffMs: 5_000 });
    const limiter = rateLimiter({ name: 'fleet', limit: 3, windowMs: 60_000, store });
    const keys = Array.from({ length: 60 }, (_, i) => `user-${i}`);
    const deadPort = own.ports[2]!;
    const ownerPort = async (key: string) => {
      const slot = Number(await c.cluster('KEYSLOT', `rl:{${key}}:fleet`));
      return (c as unknown as { slots: string[][] }).slots[slot]![0]!.split(':')[1];
    };
    const owners = new Map(await Promise.all(keys.map(async (k) => [k, Number(await ownerPort(k))] as const)));
    await own.nodes[2]!.stop();
    // A call to the dead master fails and backs off that node only.
    for (const key of keys.filter((k) => owners.get(k) === deadPort).slice(0, 3)) await limiter.consume(key);
    const healthy = keys.filter((k) => owners.get(k) !== deadPort);
    expect(healthy.length).toBeGreaterThan(20);
    for (const key of healthy) {
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await limiter.consume(key));
      expect(decisions.map((d) => [d.allowed, d.error === undefined])).toEqual([
        [true, true],
        [true, true],
        [true, true],
        [false, true],
      ]);
    }
    const dead = keys.find((k) => owners.get(k) === deadPort)!;
    const refused = await limiter.consume(dead);
    expect([refused.allowed, refused.error !== undefined]).toEqual([false, true]); // onError 'closed'
  } finally {
    c.disconnect();
    await own.stop();
  }
}, 60_000);
