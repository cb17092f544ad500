import { describe, expect, it } from 'vitest';
import { featureFlags } from '../src/index.js';

// Regression tests for bugs reported against the anchors (../shared/research/flags-health-versioning.md §1.4).
const users = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

describe('known bugs of other flag libraries', () => {
  it('togglz#104: two flags at 10 % do not roll out to the same users first (the hash includes the flag)', () => {
    const flags = featureFlags({
      env: false,
      flags: {
        flags: { a: { rules: [{ rollout: { percentage: 10 } }] }, b: { rules: [{ rollout: { percentage: 10 } }] } },
      },
    });
    const both = users.filter(
      (u) => flags.isEnabled('a', { targetingKey: u }) && flags.isEnabled('b', { targetingKey: u }),
    );
    // Independent 10 % rollouts overlap on about 1 % of users; the same hash for both would give 10 %.
    expect(both.length / users.length).toBeLessThan(0.02);
  });

  it('unleash-php-sdk#179: variants are not correlated with rollout buckets (a separate seed)', () => {
    const flags = featureFlags({
      env: false,
      flags: {
        flags: {
          exp: {
            variants: { a: 'A', b: 'B' },
            rules: [
              {
                rollout: { percentage: 50 },
                variant: {
                  split: [
                    { variant: 'a', weight: 50 },
                    { variant: 'b', weight: 50 },
                  ],
                },
              },
            ],
          },
        },
      },
    });
    const inRollout = users.map((u) => flags.evaluate('exp', { targetingKey: u })).filter((r) => r.enabled);
    const a = inRollout.filter((r) => r.variant === 'a').length / inRollout.length;
    // With the rollout's seed, every user in the first 50 % of buckets would get variant a.
    expect(a).toBeGreaterThan(0.45);
    expect(a).toBeLessThan(0.55);
  });

  it('growthbook-js#22 / growthbook-swift#75: growing a rollout or adding weight keeps earlier assignments', () => {
    const at = (percentage: number) =>
      featureFlags({ env: false, flags: { flags: { f: { rules: [{ rollout: { percentage } }] } } } });
    const ten = at(10);
    const twenty = at(20);
    for (const u of users)
      if (ten.isEnabled('f', { targetingKey: u })) expect(twenty.isEnabled('f', { targetingKey: u })).toBe(true);
  });

  it('unleash-node-sdk#183 / open-feature js-sdk#695: ready() waits for the real document, not a fallback', async () => {
    let release!: (doc: unknown) => void;
    const flags = featureFlags({
      env: false,
      flags: { flags: { f: { enabled: false } } }, // what a backup would serve meanwhile
      source: { load: () => new Promise((r) => (release = r)) },
    });
    let ready = false;
    void flags.ready().then(() => (ready = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(ready).toBe(false);
    release({ flags: { f: {} } });
    await flags.ready();
    expect(flags.isEnabled('f')).toBe(true);
  });
});
