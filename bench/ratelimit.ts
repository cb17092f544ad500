/**
 * Rate-limiter cases: one decision per call over 10,000 keys, memory stores. Bulwark's memory store answers
 * synchronously; rate-limiter-flexible's `consume` returns a promise (and rejects when limited, so the limits here
 * are never reached).
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
    const l = rateLimiter({ limit: 1e9, windowMs: 60_000 });
    return cycling((k) => l.consume(k));
  },
  'bulwark token-bucket, memory, 10k keys': () => {
    const l = rateLimiter({ algorithm: 'token-bucket', limit: 1e9, windowMs: 60_000 });
    return cycling((k) => l.consume(k));
  },
  'bulwark sliding-window, memory, 10k keys': () => {
    const l = rateLimiter({ algorithm: 'sliding-window', limit: 1e9, windowMs: 60_000 });
    return cycling((k) => l.consume(k));
  },
  'bulwark fixed-window, memory, 10k keys': () => {
    const l = rateLimiter({ algorithm: 'fixed-window', limit: 1e9, windowMs: 60_000 });
    return cycling((k) => l.consume(k));
  },
  'rate-limiter-flexible RateLimiterMemory.consume, 10k keys': () => {
    const l = new RateLimiterMemory({ points: 1e9, duration: 60 });
    return cycling((k) => l.consume(k));
  },
};
