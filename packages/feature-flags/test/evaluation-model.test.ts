import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { featureFlags } from '../src/index.js';

const require = createRequire(import.meta.url);
const unleashUtil = require('unleash-client/lib/strategy/util.js') as {
  normalizedStrategyValue(id: string, groupId: string): number;
};

// A small reference evaluator: the documented semantics, read straight off the document with no compilation,
// bucketing with Unleash's own function. The flags must agree with it on every generated document and context.
type Ctx = Record<string, string | number | undefined>;
interface RefConstraint {
  attribute: string;
  operator: 'in' | 'not_in' | 'str_starts_with' | 'num_gt' | 'num_lte';
  values?: string[];
  value?: string;
  inverted?: boolean;
}
interface RefRule {
  constraints?: RefConstraint[];
  segments?: string[];
  targetingKeys?: string[];
  rollout?: { percentage: number };
  variant?: 'on' | 'off';
}
interface RefFlag {
  enabled: boolean;
  allow: string[];
  deny: string[];
  prerequisites: { flag: string; enabled: boolean }[];
  rules: RefRule[];
}
interface RefDoc {
  segments: Record<string, { constraints: RefConstraint[] }>;
  flags: Record<string, RefFlag>;
}

function refConstraint(c: RefConstraint, ctx: Ctx): boolean {
  const raw = ctx[c.attribute];
  const text = raw === undefined ? undefined : String(raw);
  let r: boolean;
  switch (c.operator) {
    case 'in':
      r = text !== undefined && c.values!.includes(text);
      break;
    case 'not_in':
      r = !(text !== undefined && c.values!.includes(text));
      break;
    case 'str_starts_with':
      r = text !== undefined && c.values!.some((v) => text.startsWith(v));
      break;
    case 'num_gt':
    case 'num_lte': {
      const n = text === undefined ? Number.NaN : Number(text);
      r = !Number.isNaN(n) && (c.operator === 'num_gt' ? n > Number(c.value) : n <= Number(c.value));
    }
  }
  return c.inverted ? !r : r;
}

function refEvaluate(doc: RefDoc, key: string, ctx: Ctx): { enabled: boolean; variant: string; ruleId?: string } {
  const flag = doc.flags[key]!;
  const off = { enabled: false, variant: 'off' };
  if (!flag.enabled) return off;
  for (const p of flag.prerequisites) if (refEvaluate(doc, p.flag, ctx).enabled !== p.enabled) return off;
  const tk = ctx.targetingKey === undefined ? undefined : String(ctx.targetingKey);
  if (tk !== undefined && flag.deny.includes(tk)) return { ...off, ruleId: 'deny' };
  if (tk !== undefined && flag.allow.includes(tk)) return { enabled: true, variant: 'on', ruleId: 'allow' };
  if (flag.rules.length === 0) return { enabled: true, variant: 'on' };
  for (const [i, rule] of flag.rules.entries()) {
    const constraints = [
      ...(rule.constraints ?? []),
      ...(rule.segments ?? []).flatMap((s) => doc.segments[s]!.constraints),
    ];
    if (!constraints.every((c) => refConstraint(c, ctx))) continue;
    if (rule.targetingKeys && !(tk !== undefined && rule.targetingKeys.includes(tk))) continue;
    if (rule.rollout) {
      if (tk === undefined || tk === '') continue;
      const b = unleashUtil.normalizedStrategyValue(tk, key);
      if (!(rule.rollout.percentage > 0 && b <= rule.rollout.percentage)) continue;
    }
    return { enabled: true, variant: rule.variant ?? 'on', ruleId: `rule-${i}` };
  }
  return off;
}

const keys = ['u1', 'u2', 'u3', 'u4'];
const attrValues = ['a', 'ab', 'b', '1', '5', '10'];
const constraintArb: fc.Arbitrary<RefConstraint> = fc.oneof(
  fc.record({
    attribute: fc.constantFrom('plan', 'tier'),
    operator: fc.constantFrom('in' as const, 'not_in' as const, 'str_starts_with' as const),
    values: fc.uniqueArray(fc.constantFrom(...attrValues), { minLength: 1, maxLength: 3 }),
    inverted: fc.boolean(),
  }),
  fc.record({
    attribute: fc.constantFrom('plan', 'tier'),
    operator: fc.constantFrom('num_gt' as const, 'num_lte' as const),
    value: fc.constantFrom('1', '5'),
    inverted: fc.boolean(),
  }),
);
const ruleArb = (segments: string[]): fc.Arbitrary<RefRule> =>
  fc.record(
    {
      constraints: fc.array(constraintArb, { maxLength: 3 }),
      segments: segments.length ? fc.subarray(segments) : fc.constant([]),
      targetingKeys: fc.subarray(keys),
      rollout: fc.record({ percentage: fc.nat(100) }),
      variant: fc.constantFrom('on' as const, 'off' as const),
    },
    { requiredKeys: [] },
  );
const docArb: fc.Arbitrary<RefDoc> = fc
  .record({
    segments: fc.dictionary(
      fc.constantFrom('s1', 's2'),
      fc.record({ constraints: fc.array(constraintArb, { maxLength: 2 }) }),
    ),
    count: fc.integer({ min: 1, max: 5 }),
  })
  .chain(({ segments, count }) =>
    fc
      .tuple(
        ...Array.from({ length: count }, (_, i) =>
          fc.record({
            enabled: fc.boolean(),
            allow: fc.subarray(keys),
            deny: fc.subarray(keys),
            // Only on earlier flags: no cycles.
            prerequisites:
              i === 0
                ? fc.constant<{ flag: string; enabled: boolean }[]>([])
                : fc.array(
                    fc.record({
                      flag: fc.constantFrom(...Array.from({ length: i }, (_, j) => `f${j}`)),
                      enabled: fc.boolean(),
                    }),
                    { maxLength: 2 },
                  ),
            rules: fc.array(ruleArb(Object.keys(segments)), { maxLength: 4 }),
          }),
        ),
      )
      .map((flags) => ({ segments, flags: Object.fromEntries(flags.map((f, i) => [`f${i}`, f])) })),
  );
const ctxArb: fc.Arbitrary<Ctx> = fc.record(
  {
    targetingKey: fc.constantFrom(...keys, ''),
    plan: fc.constantFrom(...attrValues),
    tier: fc.constantFrom(...attrValues, 7),
  },
  { requiredKeys: [] },
);

describe('evaluation against a reference model', () => {
  it('agrees on value, variant, enabled and rule for random documents and contexts', () => {
    fc.assert(
      fc.property(docArb, fc.array(ctxArb, { minLength: 1, maxLength: 8 }), (doc, contexts) => {
        const flags = featureFlags({ flags: doc, env: false });
        for (const ctx of contexts) {
          for (const key of Object.keys(doc.flags)) {
            const want = refEvaluate(doc, key, ctx);
            const got = flags.evaluate(key, ctx);
            expect({ enabled: got.enabled, variant: got.variant, value: got.value }).toEqual({
              enabled: want.enabled,
              variant: want.variant,
              value: want.variant === 'on',
            });
            if (want.enabled && want.ruleId) expect(got.ruleId).toBe(want.ruleId);
            expect(flags.isEnabled(key, ctx)).toBe(want.enabled);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps everyone who was in when a rollout grows (10% → 20%: the first 10% stay)', () => {
    fc.assert(
      fc.property(fc.nat(100), fc.nat(100), fc.array(fc.string({ minLength: 1 }), { maxLength: 50 }), (a, b, users) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const at = (percentage: number) =>
          featureFlags({ flags: { flags: { f: { rules: [{ rollout: { percentage } }] } } }, env: false });
        const small = at(low);
        const large = at(high);
        for (const u of users) {
          if (small.isEnabled('f', { targetingKey: u })) expect(large.isEnabled('f', { targetingKey: u })).toBe(true);
        }
      }),
    );
  });

  it('admits close to the rollout percentage of 100k users', () => {
    const flags = featureFlags({ flags: { flags: { f: { rules: [{ rollout: { percentage: 10 } }] } } }, env: false });
    let on = 0;
    for (let i = 0; i < 100_000; i++) if (flags.isEnabled('f', { targetingKey: `user-${i}` })) on++;
    expect(on).toBeGreaterThan(9_500);
    expect(on).toBeLessThan(10_500);
  });
});
