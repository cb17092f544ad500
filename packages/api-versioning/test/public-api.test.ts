import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/api-versioning and its adapters', async () => {
  expect(Object.keys(await import('@bulwark/api-versioning')).sort()).toMatchInlineSnapshot(`
    [
      "Versioning",
      "compareVersions",
      "createVersioning",
      "customVersion",
      "deprecationHeaders",
      "headerVersion",
      "mediaTypeVersion",
      "parseVersion",
      "queryVersion",
      "routeDeprecation",
      "uriVersion",
      "versionChange",
    ]
  `);
  expect(Object.keys(await import('@bulwark/api-versioning/express')).sort()).toMatchInlineSnapshot(`
    [
      "apiVersioning",
      "deprecateRoute",
    ]
  `);
  expect(Object.keys(await import('@bulwark/api-versioning/fastify')).sort()).toMatchInlineSnapshot(`
    [
      "apiVersioning",
      "deprecatedRoutes",
      "fastifyRewriteUrl",
    ]
  `);
  expect(Object.keys(await import('@bulwark/api-versioning/koa')).sort()).toMatchInlineSnapshot(`
    [
      "apiVersioning",
      "deprecateRoute",
    ]
  `);
});
