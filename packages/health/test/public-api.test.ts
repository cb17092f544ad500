import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/health and its adapters', async () => {
  expect(Object.keys(await import('@bulwark/health')).sort()).toMatchInlineSnapshot(`
    [
      "GracefulShutdown",
      "Health",
      "aggregateStatus",
      "createHealth",
      "diskCheck",
      "eventLoopDelayCheck",
      "gracefulShutdown",
      "healthEndpoints",
      "heapCheck",
      "httpCheck",
      "normalizeStatus",
      "pingCheck",
      "redisCheck",
      "rssCheck",
      "toHealthDocument",
    ]
  `);
  expect(Object.keys(await import('@bulwark/health/express')).sort()).toMatchInlineSnapshot(`
    [
      "healthRoutes",
    ]
  `);
  expect(Object.keys(await import('@bulwark/health/fastify')).sort()).toMatchInlineSnapshot(`
    [
      "healthRoutes",
    ]
  `);
  expect(Object.keys(await import('@bulwark/health/koa')).sort()).toMatchInlineSnapshot(`
    [
      "healthRoutes",
    ]
  `);
});
