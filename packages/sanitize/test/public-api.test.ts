import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/sanitize', async () => {
  expect(Object.keys(await import('@bulwark/sanitize')).sort()).toMatchInlineSnapshot(`
    [
      "JsonError",
      "PathTraversalError",
      "cleanString",
      "detectSuspicious",
      "jsonParser",
      "parseJson",
      "safeFilename",
      "safeJoin",
      "safeJoinReal",
      "stringCleaner",
      "truncateUtf8",
    ]
  `);
});
