import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { problemReply, problemTypes, retryAfterSeconds } from '@bulwark/http';

describe('problemReply', () => {
  it('builds an RFC 9457 reply: problem+json, no-store, Retry-After in whole seconds rounded up', () => {
    expect(
      problemReply(
        { type: problemTypes.quotaExceeded, title: 'Too Many Requests', status: 429, limit: 'a' },
        { retryAfterMs: 1_001 },
      ),
    ).toEqual({
      status: 429,
      headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'retry-after': 2 },
      body: {
        type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
        title: 'Too Many Requests',
        status: 429,
        limit: 'a',
      },
    });
  });

  it('defaults the type to about:blank, sends no Retry-After for an unknown time, and lets headers override', () => {
    const reply = problemReply(
      { title: 'Service Unavailable', status: 503 },
      { retryAfterMs: Infinity, headers: { 'cache-control': 'private' } },
    );
    expect(reply.headers).toEqual({ 'content-type': 'application/problem+json', 'cache-control': 'private' });
    expect(reply.body).toEqual({ type: 'about:blank', title: 'Service Unavailable', status: 503 });
  });

  it('retryAfterSeconds never tells a client to come back early (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -1_000, max: 1e9 }), fc.double({ min: 1e-3, max: 1e7, noNaN: true })),
        (ms) => {
          const s = retryAfterSeconds(ms);
          expect(Number.isInteger(s) && s >= 0).toBe(true);
          expect(s * 1000).toBeGreaterThanOrEqual(ms);
          expect((s - 1) * 1000).toBeLessThan(Math.max(ms, 0.0001));
        },
      ),
    );
  });
});
