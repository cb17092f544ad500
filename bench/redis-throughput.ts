/**
 * Redis decisions per second with 64 concurrent callers sharing one ioredis connection:
 * `<bulwark|bulwark-unbatched|incr|rlf> [seconds]`. `incr` is the floor: a bare `INCR` per call. Prints `{"ops": n,
 * "redisUs": …, "clientUs": …}` as the last line: decisions per second, and the CPU time Redis and this process spent
 * per decision (which side bounds the rate: Redis's CPU is read from `INFO cpu`, summed over every master of a
 * Cluster, so nothing else should use that Redis during a run). `REDIS_CLUSTER=<port>` runs against the Redis
 * Cluster a node of which listens on that port, and `ONE_NODE=1` there uses only keys one master serves (that master
 * then gets the calls a single Redis would: its CPU per decision is what each master of a loaded Cluster costs).
 * `CALLERS` sets the number of concurrent callers (default 64).
 */
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { rateLimiter } from '@bulwark/rate-limiter';
import { redisStore } from '@bulwark/rate-limiter/redis';
import { RateLimiterRedis } from 'rate-limiter-flexible';

const [kind = 'bulwark', secondsArg = '3'] = process.argv.slice(2);
const seconds = Number(secondsArg);
const clusterPort = process.env.REDIS_CLUSTER;
const client =
  clusterPort === undefined
    ? new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
    : new Cluster([{ host: '127.0.0.1', port: Number(clusterPort) }]);
const prefix = `bulwark-bench:${process.pid}:`;
const CALLERS = Number(process.env.CALLERS ?? 64);
const keys: string[] = [];
if (client instanceof Cluster && process.env.ONE_NODE === '1') {
  await client.ping(); // the slot table is read
  const slots = (client as unknown as { slots: string[][] }).slots;
  const master = slots[0]![0];
  for (let i = 0; keys.length < 10_000; i++) {
    if (slots[calculateSlot(`{user-${i}}`)]![0] === master) keys.push(`user-${i}`);
  }
} else for (let i = 0; i < 10_000; i++) keys.push(`user-${i}`);
const LIMIT = 1e6; // per minute, never reached in a run: every call is a full decision (and a write)

let call: (key: string) => Promise<unknown>;
if (kind === 'incr') call = (key) => client.incr(prefix + key);
else if (kind === 'rlf') {
  const l = new RateLimiterRedis({ storeClient: client, keyPrefix: prefix, points: LIMIT, duration: 60 });
  call = (key) => l.consume(key);
} else {
  const batch = kind !== 'bulwark-unbatched';
  const l = rateLimiter({ limit: LIMIT, windowMs: 60_000, store: redisStore({ client, prefix, batch }) });
  call = (key) => l.consume(key);
}

async function worker(until: number, offset: number): Promise<number> {
  let n = 0;
  for (let i = offset; performance.now() < until; i += CALLERS) {
    await call(keys[i % keys.length]!);
    n++;
  }
  return n;
}

const run = async (s: number) => {
  const until = performance.now() + s * 1000;
  const counts = await Promise.all(Array.from({ length: CALLERS }, (_, i) => worker(until, i)));
  return counts.reduce((a, b) => a + b, 0);
};
const nodes = () => (client instanceof Cluster ? client.nodes('master') : [client]);
/** Redis's CPU time so far, in µs (user + system, from `INFO cpu`, over every node). */
const redisCpuUs = async () => {
  let us = 0;
  for (const node of nodes()) {
    const info = await node.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)![1]);
    us += (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
  }
  return us;
};
await run(1); // warm-up: scripts loaded, JIT warm
const redisBefore = await redisCpuUs();
const clientBefore = process.cpuUsage();
const calls = await run(seconds);
const clientCpu = process.cpuUsage(clientBefore);
const redisUs = (await redisCpuUs()) - redisBefore;
const ops = calls / seconds;
for (const node of nodes()) {
  const keys = await node.keys(`${prefix}*`);
  await node.pipeline(keys.map((key) => ['del', key])).exec(); // one DEL per key: a node's keys span slots
}
client.disconnect();
const clientUs = (clientCpu.user + clientCpu.system) / calls;
console.log(JSON.stringify({ ops, redisUs: redisUs / calls, clientUs }));
