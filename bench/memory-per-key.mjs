// Heap per key held, one side per process, key strings excluded (created and kept before the baseline):
// node --expose-gc memory-per-key.mjs <map|store|rlf> <keys> <maxKeys> [algorithm]
// `map` is the floor (a Map<string, number> holding the same keys); `store` Bulwark's memory store; `rlf`
// rate-limiter-flexible's RateLimiterMemory. Prints {"perKey": bytes, "emptyMB": the store before any key}.
import { memoryStore, rateLimiter } from '@bulwark/rate-limiter';
import { RateLimiterMemory } from 'rate-limiter-flexible';

const [mode, nText, capText, algorithm = 'gcra'] = process.argv.slice(2);
const n = Number(nText);
const keys = Array.from({ length: n }, (_, i) => `key-${i}`);
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const base = heap();
let holder;
let empty = 0;
if (mode === 'map') {
  holder = new Map();
  for (let i = 0; i < n; i++) holder.set(keys[i], i);
} else if (mode === 'rlf') {
  holder = new RateLimiterMemory({ points: 100, duration: 60 });
  for (let i = 0; i < n; i++) await holder.consume(keys[i]);
} else {
  holder = rateLimiter({ algorithm, limit: 100, windowMs: 60_000, store: memoryStore({ maxKeys: Number(capText) }) });
  empty = heap() - base;
  for (let i = 0; i < n; i++) holder.consume(keys[i]);
}
const bytes = heap() - base;
console.log(JSON.stringify({ mode, n, perKey: bytes / n, emptyMB: empty / 1048576, held: holder !== undefined }));
