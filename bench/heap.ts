/**
 * Memory (heap plus typed-array buffers) per limited key with 1,000,000 keys: `<bulwark|map|rlf>`; run with --expose-gc. `map` is the floor: a
 * plain `Map<string, number>` holding the same keys. Each key is consumed once (so it is "limited": it has state).
 * Prints `{"bytesPerKey": n}` as the last line.
 */
import { rateLimiter, memoryStore } from '@bulwark/rate-limiter';
import { RateLimiterMemory } from 'rate-limiter-flexible';

const kind = process.argv[2] ?? 'bulwark';
const N = 1_000_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

gc();
gc();
/** The JS heap plus ArrayBuffer backing stores (typed arrays live outside the heap). */
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const before = used();
// Each structure holds its keys, as a server's limiter holds the strings its requests brought.
const keys = Array.from({ length: N }, (_, i) => `user-${i}`);
let keep: unknown;
if (kind === 'map') {
  const m = new Map<string, number>();
  for (let i = 0; i < N; i++) m.set(keys[i]!, i + 0.5);
  keep = m;
} else if (kind === 'rlf') {
  const l = new RateLimiterMemory({ points: 10, duration: 3600 });
  await Promise.all(keys.map((k) => l.consume(k)));
  keep = l;
} else {
  const l = rateLimiter({ limit: 10, windowMs: 3_600_000, store: memoryStore({ maxKeys: N }) });
  for (let i = 0; i < N; i++) l.consume(keys[i]!);
  keep = l;
}
gc();
gc();
keys.length = 0; // the array of keys is scaffolding, not part of any structure
gc();
const after = used();
console.log(JSON.stringify({ bytesPerKey: (after - before) / N, kept: keep !== undefined }));
process.exit(0); // rate-limiter-flexible keeps a timer per key alive
