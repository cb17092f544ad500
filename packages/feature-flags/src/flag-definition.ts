import { z } from 'zod';
import { RE2JS } from 're2js';
import semver from 'semver';

/** Comparison operators a constraint may use; Unleash's operators, lower-cased. */
export const constraintOperators = [
  'in',
  'not_in',
  'str_contains',
  'str_starts_with',
  'str_ends_with',
  'num_eq',
  'num_gt',
  'num_gte',
  'num_lt',
  'num_lte',
  'date_after',
  'date_before',
  'semver_eq',
  'semver_gt',
  'semver_gte',
  'semver_lt',
  'semver_lte',
  'regex',
  'in_cidr',
] as const;

/** See {@link constraintOperators}. */
export type ConstraintOperator = (typeof constraintOperators)[number];

const multiValued = new Set<ConstraintOperator>([
  'in',
  'not_in',
  'str_contains',
  'str_starts_with',
  'str_ends_with',
  'in_cidr',
]);

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

/**
 * One condition over the evaluation context. Values are compared as text (`in`, string operators), numbers, dates
 * (ISO text or epoch milliseconds; `currentTime` defaults to now), semantic versions, an RE2 regular expression
 * (linear time: no backtracking blow-up on hostile input) or CIDR ranges. A missing attribute never matches, except
 * under `not_in`. `inverted` negates the result.
 */
export const constraintSchema = z
  .object({
    attribute: z.string().min(1),
    operator: z.enum(constraintOperators),
    /** Candidates for `in`, `not_in`, the string operators and `in_cidr` (any one matches). */
    values: z.array(scalar).default([]),
    /** The operand of the numeric, date, semver and regex operators. */
    value: scalar.optional(),
    inverted: z.boolean().default(false),
    /** Compare case-insensitively: the `str_*` operators and `regex` (as Unleash; `in` stays exact). */
    caseInsensitive: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (multiValued.has(c.operator)) {
      if (c.values.length === 0)
        ctx.addIssue({ code: 'custom', path: ['values'], message: `${c.operator} needs values` });
      return;
    }
    if (c.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `${c.operator} needs a value` });
      return;
    }
    const problem = operandProblem(c.operator, c.value);
    if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
  });

function operandProblem(operator: ConstraintOperator, value: string): string | undefined {
  if (operator.startsWith('num_') && Number.isNaN(Number(value))) return `not a number: ${value}`;
  if (operator.startsWith('date_') && Number.isNaN(new Date(value).getTime())) return `not a date: ${value}`;
  if (operator.startsWith('semver_') && !semver.valid(value)) return `not a semantic version: ${value}`;
  if (operator === 'regex') {
    try {
      RE2JS.compile(value);
    } catch (error) {
      return `not an RE2 regular expression (${(error as Error).message}): ${value}`;
    }
  }
  return undefined;
}

/** A constraint as written in a flag document. */
export type ConstraintInput = z.input<typeof constraintSchema>;
/** A validated constraint. */
export type Constraint = z.output<typeof constraintSchema>;

/**
 * Context attributes tried in order for a bucketing key; the first present (non-empty) one is hashed. The word
 * `random` stands for a fresh random bucket (a request-scoped coin flip, as Unleash's `random` stickiness).
 */
const stickinessSchema = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((s) => (typeof s === 'string' ? [s] : s));

/**
 * A percentage rollout: the rule matches for `percentage` % of the stickiness values, chosen by hashing
 * `groupId:value` (murmur3, Unleash's bucketing). Raising the percentage keeps everyone already in.
 */
export const rolloutSchema = z
  .object({
    percentage: z.number().min(0, { message: 'must be at least 0' }).max(100, { message: 'must be at most 100' }),
    stickiness: stickinessSchema.default(['targetingKey']),
    /** Hash group; the flag key unless set. Two flags with one groupId roll out to the same users first. */
    groupId: z.string().optional(),
  })
  .strict();

/** A variant override: contexts whose `attribute` is one of `values` get `variant`, before any hashing. */
const overrideSchema = z
  .object({ attribute: z.string().min(1), values: z.array(scalar).min(1), variant: z.string().min(1) })
  .strict();

/** A weighted choice between variants, sticky per user (seeded hash over the total weight, as Unleash). */
export const splitSchema = z
  .object({
    split: z
      .array(z.object({ variant: z.string().min(1), weight: z.number().int().min(0) }).strict())
      .min(1)
      .refine((s) => s.some((v) => v.weight > 0), { message: 'at least one weight must be > 0' }),
    stickiness: stickinessSchema.default(['targetingKey', 'random']),
    groupId: z.string().optional(),
    overrides: z.array(overrideSchema).default([]),
  })
  .strict();

/** What a rule or the flag serves: one variant's name, or a weighted split. */
const serveSchema = z.union([z.string().min(1), splitSchema]);
/** A validated serve. */
export type Serve = z.output<typeof serveSchema>;
/** A validated split. */
export type Split = z.output<typeof splitSchema>;

/**
 * A targeting rule. It matches when every constraint holds, every named segment's constraints hold, the targeting
 * key is listed (when `targetingKeys` is given) and the rollout admits the context (when given). Rules are tried in
 * order; the first match serves its `variant`, or the flag's `defaultVariant`.
 */
export const ruleSchema = z
  .object({
    /** Reported as `ruleId` in evaluation results; `rule-<index>` unless set. */
    id: z.string().min(1).optional(),
    constraints: z.array(constraintSchema).default([]),
    segments: z.array(z.string().min(1)).default([]),
    targetingKeys: z.array(scalar).optional(),
    /** Hosts this rule is for (Unleash's `applicationHostname`), compared lower-case with the machine's name. */
    hostNames: z.array(z.string().min(1)).optional(),
    rollout: rolloutSchema.optional(),
    variant: serveSchema.optional(),
  })
  .strict();

/** A rule as written in a flag document. */
export type RuleInput = z.input<typeof ruleSchema>;
/** A validated rule. */
export type Rule = z.output<typeof ruleSchema>;

/** Flag A requires flag B: on (or off, with `enabled: false`), and serving one of `variants` when given. */
const prerequisiteSchema = z
  .object({
    flag: z.string().min(1),
    enabled: z.boolean().default(true),
    variants: z.array(z.string().min(1)).optional(),
  })
  .strict();

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const jsonSchema: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonSchema), z.record(z.string(), jsonSchema)]),
);

/**
 * One flag. A boolean flag needs nothing but `enabled`: its variants default to `on: true` / `off: false`. A flag
 * with other values names them in `variants` and says which one `defaultVariant` and `offVariant` serve.
 *
 * Evaluation: `enabled: false` serves `offVariant` (reason `DISABLED`); a failed prerequisite or a `deny`-listed
 * targeting key serves `offVariant`; an `allow`-listed key serves `defaultVariant`; then the first matching rule
 * serves its variant (or `defaultVariant`); no rules at all serves `defaultVariant` (`STATIC`); rules none of which
 * matched serve `offVariant` (`DEFAULT`). Where `offVariant` is unset, "off" answers the caller's default value.
 */
export const flagSchema = z
  .object({
    enabled: z.boolean().default(true),
    description: z.string().optional(),
    variants: z.record(z.string().min(1), jsonSchema).default({ on: true, off: false }),
    /** Served by a matching rule without a variant of its own, by an allow-listed key, and when there are no rules. */
    defaultVariant: serveSchema.optional(),
    /** Served when the flag is off for the context; unset means the caller's default value. */
    offVariant: z.string().min(1).optional(),
    allow: z.array(scalar).default([]),
    deny: z.array(scalar).default([]),
    prerequisites: z.array(prerequisiteSchema).default([]),
    rules: z.array(ruleSchema).default([]),
    /** Static facts about the flag, returned as OpenFeature `flagMetadata`. */
    metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .strict()
  // The conventional names are the defaults wherever the variants have them, so boolean flags need neither field.
  .transform((flag) => ({
    ...flag,
    defaultVariant: flag.defaultVariant ?? ('on' in flag.variants ? 'on' : undefined),
    offVariant: flag.offVariant ?? ('off' in flag.variants ? 'off' : undefined),
  }))
  .superRefine((flag, ctx) => {
    const known = (name: string, path: (string | number)[]) => {
      if (!(name in flag.variants)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `variant ${JSON.stringify(name)} is not one of ${Object.keys(flag.variants).join(', ')}`,
        });
      }
    };
    const serve = (s: Serve | undefined, path: (string | number)[]) => {
      if (typeof s === 'string') known(s, path);
      else if (s) {
        s.split.forEach((v, i) => known(v.variant, [...path, 'split', i, 'variant']));
        s.overrides.forEach((o, i) => known(o.variant, [...path, 'overrides', i, 'variant']));
      }
    };
    serve(flag.defaultVariant, ['defaultVariant']);
    if (flag.offVariant !== undefined) known(flag.offVariant, ['offVariant']);
    flag.rules.forEach((rule, i) => serve(rule.variant, ['rules', i, 'variant']));
    const needsDefault = flag.rules.length === 0 || flag.allow.length > 0 || flag.rules.some((r) => !r.variant);
    if (needsDefault && flag.defaultVariant === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultVariant'],
        message: 'needed (a rule without a variant, an allow list, or no rules serves it) and there is no "on" variant',
      });
    }
  });

/** A flag as written in a flag document. */
export type FlagDefinitionInput = z.input<typeof flagSchema>;
/** A validated flag. */
export type FlagDefinition = z.output<typeof flagSchema>;

/** A named set of constraints shared by rules of many flags. */
const segmentSchema = z.object({ constraints: z.array(constraintSchema).default([]) }).strict();

/**
 * The flag document: flags by key, and segments by name. Validated as a whole; a document that refers to a segment
 * or a prerequisite flag it does not define is refused.
 *
 * @example
 * ```json
 * {
 *   "segments": { "beta": { "constraints": [{ "attribute": "plan", "operator": "in", "values": ["beta"] }] } },
 *   "flags": {
 *     "new-checkout": { "rules": [{ "segments": ["beta"] }, { "rollout": { "percentage": 10 } }] },
 *     "button-color": { "variants": { "red": "#d00", "blue": "#00d" }, "defaultVariant": "red",
 *                       "rules": [{ "constraints": [{ "attribute": "country", "operator": "in", "values": ["NL"] }],
 *                                   "variant": "blue" }] }
 *   }
 * }
 * ```
 */
export const flagDocumentSchema = z
  .object({
    version: z.literal(1).default(1),
    segments: z.record(z.string().min(1), segmentSchema).default({}),
    flags: z.record(z.string().min(1), flagSchema).default({}),
  })
  .strict()
  .superRefine((doc, ctx) => {
    for (const [key, flag] of Object.entries(doc.flags)) {
      flag.rules.forEach((rule, i) =>
        rule.segments.forEach((name, j) => {
          if (!(name in doc.segments)) {
            ctx.addIssue({
              code: 'custom',
              path: ['flags', key, 'rules', i, 'segments', j],
              message: `no segment ${name}`,
            });
          }
        }),
      );
      flag.prerequisites.forEach((p, i) => {
        if (!(p.flag in doc.flags) || p.flag === key) {
          ctx.addIssue({
            code: 'custom',
            path: ['flags', key, 'prerequisites', i, 'flag'],
            message: p.flag === key ? 'a flag cannot require itself' : `no flag ${p.flag}`,
          });
        }
      });
    }
    const cycle = prerequisiteCycle(doc.flags);
    if (cycle) {
      ctx.addIssue({
        code: 'custom',
        path: ['flags', cycle[0]!, 'prerequisites'],
        message: `prerequisite cycle: ${cycle.join(' → ')}`,
      });
    }
  });

/** The first chain of prerequisites that comes back to where it started, if any. */
function prerequisiteCycle(flags: Record<string, { prerequisites: { flag: string }[] }>): string[] | undefined {
  const done = new Set<string>();
  const visit = (key: string, path: string[]): string[] | undefined => {
    if (path.includes(key)) return [...path.slice(path.indexOf(key)), key];
    if (done.has(key)) return undefined;
    for (const p of flags[key]?.prerequisites ?? []) {
      const found = visit(p.flag, [...path, key]);
      if (found) return found;
    }
    done.add(key);
    return undefined;
  };
  for (const key of Object.keys(flags)) {
    const found = visit(key, []);
    if (found) return found;
  }
  return undefined;
}

/** A flag document as written (JSON, YAML or an object). */
export type FlagDocumentInput = z.input<typeof flagDocumentSchema>;
/** A validated flag document. */
export type FlagDocument = z.output<typeof flagDocumentSchema>;
