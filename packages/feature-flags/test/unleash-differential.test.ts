import fc from 'fast-check';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { describe, expect, it } from 'vitest';
import { featureFlags } from '../src/index.js';
import { fromUnleash, toUnleashVariant, unleashContext, type UnleashFeature } from '../src/unleash.js';

// Bulwark's import of random Unleash features must answer exactly what unleash-client itself answers, for random
// contexts: constraints of every operator family, several strategies, rollouts, and weighted variants.
// Small pools per attribute, with case variants, so generated constraints and contexts often meet.
const pools: Record<string, string[]> = {
  country: ['NL', 'nl', 'BE', ''],
  plan: ['pro', 'PRO', 'free'],
  age: ['7', '18', '30', 'x'],
  appVersion: ['2.0.0', '2.3.1', '1.9.9-beta', 'v2.0.0'],
  email: ['a@example.com', 'A@EXAMPLE.COM', 'b@test.org'],
  remoteAddress: ['10.1.2.3', '192.168.0.1', '8.8.8.8', '10.0.0.0/8', '192.168.0.0/24'],
};
const attr = fc.constantFrom(...Object.keys(pools));
const constraint = fc.oneof(
  attr.chain((contextName) =>
    fc.record({
      contextName: fc.constant(contextName),
      operator: fc.constantFrom('IN', 'NOT_IN', 'STR_CONTAINS', 'STR_STARTS_WITH', 'STR_ENDS_WITH', 'IN_CIDR'),
      values: fc.array(fc.constantFrom(...pools[contextName]!, 'example'), { maxLength: 3 }),
      inverted: fc.boolean(),
      caseInsensitive: fc.boolean(),
    }),
  ),
  attr.chain((contextName) =>
    fc.record({
      contextName: fc.constant(contextName),
      operator: fc.constantFrom(
        'NUM_EQ',
        'NUM_GT',
        'NUM_GTE',
        'NUM_LT',
        'NUM_LTE',
        'SEMVER_EQ',
        'SEMVER_GT',
        'SEMVER_GTE',
        'SEMVER_LT',
        'SEMVER_LTE',
      ),
      value: fc.constantFrom(...pools[contextName]!),
      inverted: fc.boolean(),
    }),
  ),
  fc.record({
    contextName: fc.constant('currentTime'),
    operator: fc.constantFrom('DATE_AFTER', 'DATE_BEFORE'),
    value: fc.constantFrom('2020-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z'),
    inverted: fc.boolean(),
  }),
);
const strategy = fc.record({
  name: fc.constantFrom('default', 'flexibleRollout', 'userWithId', 'gradualRolloutUserId'),
  parameters: fc.record({
    rollout: fc.constantFrom('0', '25', '50', '100'),
    percentage: fc.constantFrom('0', '50', '100'),
    stickiness: fc.constantFrom('default', 'userId', 'country'),
    groupId: fc.constantFrom('g1', 'g2'),
    userIds: fc.constantFrom('u1,u2', 'u3'),
  }),
  constraints: fc.array(constraint, { maxLength: 2 }),
});
const variants = fc.array(
  fc.record({
    name: fc.constantFrom('a', 'b', 'c'),
    weight: fc.integer({ min: 0, max: 500 }),
    stickiness: fc.constantFrom('default', 'userId'),
    payload: fc.constantFrom(undefined, { type: 'string', value: 'p' }),
  }),
  { maxLength: 3 },
);
const feature: fc.Arbitrary<UnleashFeature> = fc.record({
  name: fc.constant('f'),
  enabled: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
  strategies: fc.array(strategy, { maxLength: 3 }),
  variants: variants.map((vs) => vs.filter((v, i) => vs.findIndex((w) => w.name === v.name) === i)),
});
const context = fc.record({
  userId: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'user-42'),
  remoteAddress: fc.constantFrom('10.1.2.3', '192.168.0.1', '8.8.8.8'),
  properties: fc.record(
    {
      country: fc.constantFrom(...pools.country!),
      plan: fc.constantFrom(...pools.plan!),
      age: fc.constantFrom(...pools.age!),
      appVersion: fc.constantFrom(...pools.appVersion!),
      email: fc.constantFrom(...pools.email!),
    },
    { requiredKeys: [] },
  ),
});

async function unleashFor(f: UnleashFeature): Promise<Unleash> {
  const client = new Unleash({
    url: 'http://127.0.0.1:1/api',
    appName: 'differential',
    disableMetrics: true,
    refreshInterval: 0,
    bootstrap: { data: [f as never] },
    storageProvider: new InMemStorageProvider(),
  });
  await new Promise((resolve) => client.once('ready', resolve));
  return client;
}

describe('fromUnleash against unleash-client', () => {
  it('answers isEnabled and getVariant as unleash-client does', async () => {
    const seen = { on: 0, off: 0, variant: 0 };
    await fc.assert(
      fc.asyncProperty(feature, fc.array(context, { minLength: 1, maxLength: 10 }), async (f, contexts) => {
        const client = await unleashFor(f);
        try {
          const flags = featureFlags({ flags: fromUnleash({ features: [f] }).document, env: false });
          for (const ctx of contexts) {
            const on = client.isEnabled('f', ctx);
            expect(flags.isEnabled('f', unleashContext(ctx))).toBe(on);
            seen[on ? 'on' : 'off']++;
            const { featureEnabled: _alias, ...theirs } = client.getVariant('f', ctx) as unknown as Record<
              string,
              unknown
            >;
            expect(toUnleashVariant(flags.evaluate('f', unleashContext(ctx)))).toEqual(theirs);
            if (theirs.enabled === true) seen.variant++;
          }
        } finally {
          client.destroy();
        }
      }),
      { numRuns: 2000 },
    );
    // The generators must reach both answers and real variants, or the comparison proves little.
    expect(seen.on).toBeGreaterThan(100);
    expect(seen.off).toBeGreaterThan(100);
    expect(seen.variant).toBeGreaterThan(50);
  });
});
