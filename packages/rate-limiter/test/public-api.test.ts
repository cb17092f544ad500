import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/rate-limiter', async () => {
  expect(Object.keys(await import('@bulwark/rate-limiter')).sort()).toMatchInlineSnapshot(`
    [
      "Limiter",
      "MemoryStore",
      "RateLimiter",
      "RateLimits",
      "memoryStore",
      "rateLimitGuard",
      "rateLimiter",
      "rateLimits",
    ]
  `);
  expect(Object.keys(await import('@bulwark/rate-limiter/redis')).sort()).toMatchInlineSnapshot(`
    [
      "RATE_LIMIT_SCRIPT",
      "RATE_LIMIT_SCRIPT_SHA",
      "RedisStore",
      "redisStore",
    ]
  `);
  expect(Object.keys(await import('@bulwark/rate-limiter/express')).sort()).toMatchInlineSnapshot(`
    [
      "rateLimit",
    ]
  `);
  expect(Object.keys(await import('@bulwark/rate-limiter/fastify')).sort()).toMatchInlineSnapshot(`
    [
      "rateLimit",
      "rateLimitRoutes",
    ]
  `);
  expect(Object.keys(await import('@bulwark/rate-limiter/koa')).sort()).toMatchInlineSnapshot(`
    [
      "rateLimit",
    ]
  `);
});
