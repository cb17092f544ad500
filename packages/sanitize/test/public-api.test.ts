import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/sanitize and its adapters', async () => {
  expect(Object.keys(await import('@bulwark/sanitize')).sort()).toMatchInlineSnapshot(`
    [
      "JsonError",
      "PathTraversalError",
      "cleanString",
      "detectSuspicious",
      "escapeHtml",
      "htmlPolicies",
      "isJsonError",
      "isPathTraversalError",
      "jsonParser",
      "parseJson",
      "requestValidator",
      "safeFilename",
      "safeJoin",
      "safeJoinReal",
      "sanitizeHtml",
      "stringCleaner",
      "truncateUtf8",
    ]
  `);
  for (const adapter of ['express', 'fastify', 'koa']) {
    expect(Object.keys(await import(`@bulwark/sanitize/${adapter}`))).toEqual(['validateRequest']);
  }
});
