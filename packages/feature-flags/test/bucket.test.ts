import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucket, variantSeed } from '../src/index.js';

const require = createRequire(import.meta.url);
// Unleash's Node SDK's own bucketing: the anchor these buckets must equal.
const unleashUtil = require('unleash-client/lib/strategy/util.js') as {
  normalizedStrategyValue(id: string, groupId: string): number;
  normalizedVariantValue(id: string, groupId: string, normalizer: number): number;
};

describe('bucket', () => {
  it("matches Unleash's published vectors", () => {
    expect(bucket('123', 'gr1')).toBe(73);
    expect(bucket('999', 'groupX')).toBe(25);
  });

  it("equals Unleash's Node SDK for rollouts and variants, on any text", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 1, max: 10_000 }), (id, group, total) => {
        expect(bucket(id, group)).toBe(unleashUtil.normalizedStrategyValue(id, group));
        expect(bucket(id, group, total, variantSeed)).toBe(unleashUtil.normalizedVariantValue(id, group, total));
      }),
      { numRuns: 2000 },
    );
  });

  it('is uniform over 100k keys: every percent within 12% of its share', () => {
    const counts = new Array<number>(101).fill(0);
    for (let i = 0; i < 100_000; i++) counts[bucket(`user-${i}`, 'checkout')]!++;
    expect(counts[0]).toBe(0);
    for (let b = 1; b <= 100; b++) {
      expect(counts[b]).toBeGreaterThan(880);
      expect(counts[b]).toBeLessThan(1120);
    }
  });

  it('buckets 1..normalizer, never 0', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 1, max: 1000 }), (id, group, n) => {
        const b = bucket(id, group, n, variantSeed);
        expect(b).toBeGreaterThanOrEqual(1);
        expect(b).toBeLessThanOrEqual(n);
      }),
    );
  });
});
