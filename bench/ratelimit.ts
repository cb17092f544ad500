/**
 * Rate-limiter cases: one decision per call over 10,000 keys, memory stores. Bulwark's memory store answers
 * synchronously; rate-limiter-flexible's `consume` returns a promise (and rejects when limited, so the limits here
 * are never reached). Two more cases split a decision's time into the clock read and the rest.
 */
import { rateLimiter } from '@bulwark/rate-limiter';
import { RateLimiterMemory } from 'rate-limiter-flexible';

const KEYS = 10_000;
const keys = Array.from({ length: KEYS }, (_, i) => `user-${i}`);

function cycling<T>(f: (key: string) => T): () => T {
  let i = 0;
  return () => f(keys[i++ % KEYS]!);
}

export const cases: Record<string, () => () => unknown> = {
  'bulwark gcra, memory, 10k keys': () => {
    const l = rateLimiter({ limit: 1e6, windowMs: 60_000 });
    return cycling((k) => l.consume(k));
  },
  'bulwark token-bucket, memory, 10k keys': () => {
    const l = rateLimiter({ algorithm: 'token-bucket', limit: 1e6, windowMs: 60_000 });
    return cycling((k) => l.consume(k));
  },
  'bulwark sliding-window, memory, 10k keys': () => {
    const l = rateLimiter({ algorithm: 'sliding-window', limit: 1e6, windowMs: 60_000 });
    return cycling((k) => l.consume(k));
  },
  'bulwark fixed-window, memory, 10k keys': () => {
    const l = rateLimiter({ algorithm: 'fixed-window', limit: 1e6, windowMs: 60_000 });
    return cycling((k) => l.consume(k));
  },
  // The two parts of a decision: reading the clock, and everything else (a clock that only counts).
  'clock read alone (performance.now)': () => () => performance.now(),
  'bulwark gcra, memory, 10k keys, counting clock': () => {
    let t = 0;
    const clock = { now: () => (t += 0.001), setTimeout, clearTimeout };
    const l = rateLimiter({ limit: 1e6, windowMs: 60_000, clock });
    return cycling((k) => l.consume(k));
  },
  'rate-limiter-flexible RateLimiterMemory.consume, 10k keys': () => {
    const l = new RateLimiterMemory({ points: 1e6, duration: 60 });
    return cycling((k) => l.consume(k));
  },
};
