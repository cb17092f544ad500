import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/feature-flags and its subpaths', async () => {
  expect(Object.keys(await import('@bulwark/feature-flags')).sort()).toMatchInlineSnapshot(`
    [
      "FeatureFlags",
      "RequestFlags",
      "bucket",
      "constraintOperators",
      "envName",
      "envPrefix",
      "featureFlags",
      "fileSource",
      "flagDocumentSchema",
      "flagsAdminGuard",
      "flagsAdminHandler",
      "flagsGuard",
      "httpSource",
      "redisSource",
      "requireFlagGuard",
      "rolloutSeed",
      "variantSeed",
    ]
  `);
  expect(Object.keys(await import('@bulwark/feature-flags/unleash')).sort()).toMatchInlineSnapshot(`
    [
      "fromUnleash",
      "toUnleashVariant",
      "unleashContext",
    ]
  `);
  expect(Object.keys(await import('@bulwark/feature-flags/openfeature')).sort()).toMatchInlineSnapshot(`
    [
      "BulwarkProvider",
    ]
  `);
  expect(Object.keys(await import('@bulwark/feature-flags/express')).sort()).toMatchInlineSnapshot(`
    [
      "flagsAdmin",
      "flagsMiddleware",
      "requireFlag",
    ]
  `);
  expect(Object.keys(await import('@bulwark/feature-flags/fastify')).sort()).toMatchInlineSnapshot(`
    [
      "flagRoutes",
      "flagsAdmin",
      "flagsMiddleware",
      "requireFlag",
    ]
  `);
  expect(Object.keys(await import('@bulwark/feature-flags/koa')).sort()).toMatchInlineSnapshot(`
    [
      "flagsAdmin",
      "flagsMiddleware",
      "requireFlag",
    ]
  `);
});
