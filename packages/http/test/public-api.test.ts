import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/http and its adapters', async () => {
  expect(Object.keys(await import('@bulwark/http')).sort()).toMatchInlineSnapshot(`
    [
      "NEXT",
      "authorizeEndpoints",
      "cidrContains",
      "clientIp",
      "clientIpResolver",
      "formatIp",
      "ipKey",
      "normalizeIp",
      "parseCidr",
      "parseIp",
      "problemReply",
      "problemTypes",
      "publishRefusal",
      "refusalChannel",
      "requestIdGuard",
      "retryAfterSeconds",
      "toNodeEndpoints",
      "withSkip",
    ]
  `);
  expect(Object.keys(await import('@bulwark/http/express')).sort()).toMatchInlineSnapshot(`
    [
      "requestId",
      "requestSignal",
      "toExpress",
      "toExpressEndpoints",
      "toExpressHandler",
      "toExpressRewrite",
    ]
  `);
  expect(Object.keys(await import('@bulwark/http/fastify')).sort()).toMatchInlineSnapshot(`
    [
      "requestId",
      "requestSignal",
      "toFastify",
      "toFastifyEndpoints",
      "toFastifyHandler",
      "toFastifyRewriteUrl",
      "toFastifyRoutes",
    ]
  `);
  expect(Object.keys(await import('@bulwark/http/koa')).sort()).toMatchInlineSnapshot(`
    [
      "requestId",
      "requestSignal",
      "toKoa",
      "toKoaEndpoints",
      "toKoaHandler",
      "toKoaRewrite",
    ]
  `);
});
