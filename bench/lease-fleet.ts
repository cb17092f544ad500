// One process of the lease benchmark: decides on one hot key for `seconds`, 32 decisions in flight, against the
// Redis at REDIS_URL; prints {"decisions", "allowedAt": [ms offsets of allowed decisions]}.
// argv: <exact|lease> <seconds> <prefix> <limit per window> <window ms> <start at (epoch ms)>
import { Redis } from 'ioredis';
import { rateLimiter } from '@bulwark/rate-limiter';
import { redisStore } from '@bulwark/rate-limiter/redis';

const [mode, secondsText, prefix, limitText, windowText, startText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const limiter = rateLimiter({
  name: 'hot',
  limit: Number(limitText),
  windowMs: Number(windowText),
  store: redisStore({ client: redis, prefix, ...(mode === 'lease' ? { lease: { units: 50 } } : {}) }),
});
const start = Number(startText);
await new Promise((r) => setTimeout(r, Math.max(0, start - Date.now())));
const end = start + Number(secondsText) * 1000;
let decisions = 0;
const allowedAt: number[] = [];
const worker = async () => {
  while (Date.now() < end) {
    const d = await limiter.consume('hot');
    decisions++;
    if (d.allowed) allowedAt.push(Date.now() - start);
  }
};
await Promise.all(Array.from({ length: 32 }, worker));
redis.disconnect();
console.log(JSON.stringify({ decisions, allowedAt }));
