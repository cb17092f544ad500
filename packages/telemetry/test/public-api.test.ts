import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/telemetry and its adapters', async () => {
  expect(Object.keys(await import('@bulwark/telemetry')).sort()).toMatchInlineSnapshot(`
    [
      "bulwarkMetrics",
      "channelHandlers",
      "durationBuckets",
      "httpDurationBuckets",
      "instrument",
      "metricsEndpoint",
      "requestMetricsGuard",
      "statusPageEndpoint",
    ]
  `);
  expect(Object.keys(await import('@bulwark/telemetry/express')).sort()).toMatchInlineSnapshot(`
    [
      "metricsRoute",
      "requestMetrics",
      "statusPage",
    ]
  `);
  expect(Object.keys(await import('@bulwark/telemetry/fastify')).sort()).toMatchInlineSnapshot(`
    [
      "metricsRoute",
      "requestMetrics",
      "statusPage",
    ]
  `);
  expect(Object.keys(await import('@bulwark/telemetry/koa')).sort()).toMatchInlineSnapshot(`
    [
      "metricsRoute",
      "requestMetrics",
      "statusPage",
    ]
  `);
});
