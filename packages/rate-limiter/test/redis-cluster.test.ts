import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { memoryStore, rateLimiter, rateLimits } from '@bulwark/rate-limiter';
import { redisStore } from '@bulwark/rate-limiter/redis';
import { privateCluster, testPrefix } from '@bulwark/test-servers/redis';
import { batchesDecideAsAlone } from './batch-property.js';

/**
 * Against a real three-master Redis Cluster: all keys of one request share a slot (no CROSSSLOT), the script loads
 * on whichever node owns a key (EVALSHA → NOSCRIPT → EVAL per node), and concurrent calls are batched per node.
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
  // concurrent calls for keys on different nodes: combined per node, never into one script run across nodes
  const peeks = await Promise.all(keys.map((key) => limits.peek(key)));
  expect(peeks.map((d) => [d.allowed, d.error])).toEqual(keys.map(() => [false, undefined]));
});

it('200 parallel clients on one key of a Cluster never get more than the limit', async () => {
  const l = rateLimiter({ limit: 25, windowMs: 60_000, store: redisStore({ client, prefix: testPrefix() }) });
  const decisions = await Promise.all(Array.from({ length: 200 }, () => l.consume('hot')));
  expect(decisions.filter((d) => d.allowed)).toHaveLength(25);
});

/** Script runs (EVALSHA and EVAL, answered or refused) on every master so far, from `INFO commandstats`. */
async function scriptRuns(c: Cluster): Promise<number> {
  let runs = 0;
  for (const node of c.nodes('master')) {
    const info = await node.info('commandstats');
    for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+),.*?failed_calls=(\d+)/gm)) {
      runs += Number(m[1]) + Number(m[2]);
    }
  }
  return runs;
}

it('combines concurrent calls per node: a few script runs for 96 keys on three masters, each decided exactly', async () => {
  const prefix = testPrefix();
  const limiter = rateLimiter({ name: 'spread', limit: 2, windowMs: 60_000, store: redisStore({ client, prefix }) });
  const reference = rateLimiter({ name: 'spread', limit: 2, windowMs: 60_000, store: memoryStore() });
  const keys = Array.from({ length: 96 }, (_, i) => `spread-${i}`);
  await Promise.all(keys.map((k) => limiter.peek(`warm-${k}`))); // the script is loaded on every node
  const before = await scriptRuns(client);
  for (let round = 0; round < 3; round++) {
    const decisions = await Promise.all(keys.map((k) => limiter.consume(k)));
    const expected = keys.map((k) => reference.consume(k));
    expect(decisions.map((d) => [d.allowed, d.remaining, d.error])).toEqual(
      expected.map((d) => [d.allowed, d.remaining, undefined]),
    );
  }
  // 288 decisions; one run per call would be 288. Per node, 96 calls spread over 3 masters make 2–3 runs of ≤ 16.
  expect(await scriptRuns(client)).toBeLessThanOrEqual(before + 3 * 3 * 4);
});

it('per-node batches decide any mix of limiters, key counts and operations as the same calls one run each', async () => {
  const slots = (client as unknown as { slots: string[][] }).slots;
  const keys = Array.from({ length: 9 }, (_, i) => `p${i}`);
  expect(new Set(keys.map((k) => slots[calculateSlot(`{${k}}`)]![0])).size).toBe(3); // every master has some
  // One run per master per 16 of its calls.
  const runsOf = (_prefix: string, tick: readonly string[]) => {
    const perNode = new Map<string, number>();
    for (const k of tick) {
      const node = slots[calculateSlot(`{${k}}`)]![0]!;
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
    }
    return [...perNode.values()].reduce((n, calls) => n + Math.ceil(calls / 16), 0);
  };
  await batchesDecideAsAlone(client, keys, runsOf, 25);
}, 120_000);

it('calls made before a new client has read the slot table run one by one, each decided exactly', async () => {
  // lazyConnect: it connects (and reads the slot table) on its first command, after the calls are queued.
  const fresh = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], { lazyConnect: true });
  try {
    const prefix = testPrefix();
    const limiter = rateLimiter({
      name: 'cold',
      limit: 2,
      windowMs: 60_000,
      store: redisStore({ client: fresh, prefix }),
    });
    const keys = Array.from({ length: 40 }, (_, i) => `cold-${i}`);
    const before = await scriptRuns(client);
    const decisions = await Promise.all(keys.flatMap((k) => [k, k, k].map((key) => limiter.consume(key))));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(keys.length * 2);
    expect(decisions.every((d) => d.error === undefined)).toBe(true);
    // One run per call: no batch was sent to a node guessed without the slot table (and refused there).
    expect(await scriptRuns(client)).toBe(before + keys.length * 3);
  } finally {
    fresh.disconnect();
  }
});

it('a batch that meets a slot moved away runs its calls one by one, none decided twice', async () => {
  // Its own cluster: a slot changes owner behind the client's back (no periodic slot refresh).
  const own = await privateCluster();
  const c = new Cluster([{ host: '127.0.0.1', port: own.ports[0]! }], { slotsRefreshInterval: 0 });
  const direct = own.nodes.map((n) => new Redis(n.url));
  try {
    await c.ping();
    const slots = (c as unknown as { slots: string[][] }).slots;
    const store = redisStore({ client: c, prefix: 'rl:' });
    const limiter = rateLimiter({ name: 'moved', limit: 2, windowMs: 60_000, store });
    const slotOf = async (key: string) => Number(await c.cluster('KEYSLOT', `rl:{${key}}:moved`));
    // Eight keys on the first master; the first one's slot is moved to the second master.
    const [a, b] = [slots[0]![0]!, slots[16383]![0]!];
    expect(a).not.toBe(b);
    const keys: string[] = [];
    for (let i = 0; keys.length < 8; i++) if (slots[await slotOf(`m-${i}`)]![0] === a) keys.push(`m-${i}`);
    const moved = await slotOf(keys[0]!);
    const [nodeA, nodeB] = [a, b].map((addr) => direct[own.ports.findIndex((p) => addr.endsWith(`:${p}`))]!);
    const idB = await nodeB!.cluster('MYID');
    for (const node of direct) await node.cluster('SETSLOT', moved, 'NODE', idB);
    expect(slots[moved]![0]).toBe(a); // the client has not noticed

    const first = await Promise.all(keys.map((k) => limiter.consume(k)));
    expect(first.map((d) => [d.allowed, d.remaining, d.error])).toEqual(keys.map(() => [true, 1, undefined]));
    const second = await Promise.all(keys.map((k) => limiter.consume(k)));
    expect(second.map((d) => [d.allowed, d.remaining])).toEqual(keys.map(() => [true, 0]));
    expect((await Promise.all(keys.map((k) => limiter.consume(k)))).map((d) => d.allowed)).toEqual(
      keys.map(() => false),
    );
    // The moved key lives on its new master only.
    expect(await nodeB!.exists(`rl:{${keys[0]}}:moved`)).toBe(1);
    expect(await nodeA!.dbsize()).toBe(keys.length - 1);
  } finally {
    c.disconnect();
    for (const d of direct) d.disconnect();
    await own.stop();
  }
}, 60_000);

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
