/**
 * Redis decisions per second with 64 concurrent callers sharing one ioredis connection: `<bulwark|incr|rlf>
 * [seconds]`. `incr` is the floor: a bare `INCR` per call. Prints `{"ops": n, "redisUs": …, "clientUs": …}` as the
 * last line: decisions per second, and the CPU time Redis and this process spent per decision (which side bounds
 * the rate: Redis's CPU is read from `INFO cpu`, so nothing else should use that Redis during a run).
 */
import { Redis } from 'ioredis';
import { rateLimiter } from '@bulwark/rate-limiter';
import { redisStore } from '@bulwark/rate-limiter/redis';
import { RateLimiterRedis } from 'rate-limiter-flexible';

const [kind = 'bulwark', secondsArg = '3'] = process.argv.slice(2);
const seconds = Number(secondsArg);
const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `bulwark-bench:${process.pid}:`;
const KEYS = 10_000;
const LIMIT = 1e6; // per minute, never reached in a run: every call is a full decision (and a write)

let call: (key: string) => Promise<unknown>;
if (kind === 'incr') call = (key) => client.incr(prefix + key);
else if (kind === 'rlf') {
  const l = new RateLimiterRedis({ storeClient: client, keyPrefix: prefix, points: LIMIT, duration: 60 });
  call = (key) => l.consume(key);
} else {
  const l = rateLimiter({ limit: LIMIT, windowMs: 60_000, store: redisStore({ client, prefix }) });
  call = (key) => l.consume(key);
}

async function worker(until: number, offset: number): Promise<number> {
  let n = 0;
  for (let i = offset; performance.now() < until; i += 64) {
    await call(`user-${i % KEYS}`);
    n++;
  }
  return n;
}

const run = async (s: number) => {
  const until = performance.now() + s * 1000;
  const counts = await Promise.all(Array.from({ length: 64 }, (_, i) => worker(until, i)));
  return counts.reduce((a, b) => a + b, 0);
};
/** Redis's CPU time so far, in µs (user + system, from `INFO cpu`). */
const redisCpuUs = async () => {
  const info = await client.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)![1]);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
};
await run(1); // warm-up: scripts loaded, JIT warm
const redisBefore = await redisCpuUs();
const clientBefore = process.cpuUsage();
const calls = await run(seconds);
const clientCpu = process.cpuUsage(clientBefore);
const redisUs = (await redisCpuUs()) - redisBefore;
const ops = calls / seconds;
const keys = await client.keys(`${prefix}*`);
for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
client.disconnect();
console.log(JSON.stringify({ ops, redisUs: redisUs / calls, clientUs: (clientCpu.user + clientCpu.system) / calls }));
