import { expect, it } from 'vitest';

it('locks the public surface of @bulwark/bulkhead', async () => {
  expect(Object.keys(await import('@bulwark/bulkhead')).sort()).toMatchInlineSnapshot(`
    [
      "BulkheadPolicy",
      "BulkheadRejectedError",
      "adaptiveLimit",
      "aimdLimit",
      "bulkhead",
      "fixedLimit",
      "gradientLimit",
      "isBulkheadRejectedError",
      "loadSheddingGuard",
    ]
  `);
});
