import { constraintSchema, type FlagDocumentInput, type RuleInput } from './flag-definition.js';
import type { EvaluationContext } from './constraint-matcher.js';
import type { FlagEvaluation } from './flag-evaluation.js';

/** An Unleash constraint, as `/client/features` serves it. */
export interface UnleashConstraint {
  contextName: string;
  operator: string;
  values?: string[];
  value?: string;
  inverted?: boolean;
  caseInsensitive?: boolean;
}

/** An Unleash variant. */
export interface UnleashVariant {
  name: string;
  weight: number;
  stickiness?: string;
  payload?: { type: string; value: string };
  overrides?: { contextName: string; values: string[] }[];
}

/** An Unleash activation strategy. */
export interface UnleashStrategy {
  name: string;
  parameters?: Record<string, string | number | undefined>;
  constraints?: UnleashConstraint[];
  segments?: number[];
  variants?: UnleashVariant[];
}

/** An Unleash feature toggle. */
export interface UnleashFeature {
  name: string;
  enabled: boolean;
  description?: string;
  strategies?: UnleashStrategy[];
  variants?: UnleashVariant[];
  dependencies?: { feature: string; enabled?: boolean; variants?: string[] }[];
}

/** Unleash's `/client/features` response body. */
export interface UnleashFeaturesDocument {
  version?: number;
  features: UnleashFeature[];
  segments?: { id: number; constraints?: UnleashConstraint[] }[];
}

/** An Unleash evaluation context. */
export interface UnleashContext {
  userId?: string;
  sessionId?: string;
  remoteAddress?: string;
  currentTime?: string | Date;
  environment?: string;
  appName?: string;
  properties?: Record<string, string | number | undefined>;
  [key: string]: unknown;
}

/** A variant in Unleash's shape (`getVariant`). */
export interface UnleashVariantResult {
  name: string;
  payload?: unknown;
  enabled: boolean;
  feature_enabled: boolean;
}

/**
 * Converts an Unleash `/client/features` document into a Bulwark flag document, so a team can move over, or
 * evaluate Unleash state offline with Unleash's own answers (the client-specification suite passes). Strategies
 * become rules (first match wins, as Unleash's OR), constraints keep their operators, segments stay segments,
 * variants keep their names, weights, stickiness, seeds and overrides, dependencies become prerequisites.
 *
 * Unleash answers "off" for what it cannot evaluate (an unknown strategy or operator, a missing segment or parent);
 * those parts are imported as never matching, and listed in `warnings`. Variants with the same name but different
 * payloads in two strategies are kept apart as `name@<strategy index>`; `toUnleashVariant` reports the Unleash name.
 *
 * @example
 * ```ts
 * const { document, warnings } = fromUnleash(await (await fetch(`${url}/api/client/features`, { headers })).json());
 * const flags = featureFlags({ flags: document });
 * flags.isEnabled('Feature.B', unleashContext({ userId: '123' }));
 * ```
 */
export function fromUnleash(state: UnleashFeaturesDocument): { document: FlagDocumentInput; warnings: string[] } {
  const warnings: string[] = [];
  const segmentIds = new Set((state.segments ?? []).map((s) => s.id));
  const segments: NonNullable<FlagDocumentInput['segments']> = {};
  for (const segment of state.segments ?? []) {
    const constraints = importConstraints(segment.constraints ?? [], `segment ${segment.id}`, warnings);
    // A segment that can never hold makes every rule using it never match.
    segments[String(segment.id)] = { constraints: constraints ?? [neverConstraint] };
  }
  const features = new Map(state.features.map((f) => [f.name, f]));
  const flags: NonNullable<FlagDocumentInput['flags']> = {};
  for (const feature of state.features) {
    flags[feature.name] = importFeature(feature, features, segmentIds, warnings);
  }
  return { document: { segments, flags }, warnings };
}

/** A constraint on an attribute no context has under this name. Fails, so `inverted` makes it hold. */
const neverConstraint = { attribute: '\u0000never', operator: 'in' as const, values: ['\u0000'] };

function importFeature(
  feature: UnleashFeature,
  features: ReadonlyMap<string, UnleashFeature>,
  segmentIds: ReadonlySet<number>,
  warnings: string[],
): NonNullable<FlagDocumentInput['flags']>[string] {
  const where = `feature ${feature.name}`;
  const variants: Record<string, unknown> = {};
  const payloads = new Map<string, string>();
  /** Our name for an Unleash variant: its own, unless taken by another payload. */
  const nameFor = (v: UnleashVariant, scope: number): string => {
    const payload = JSON.stringify(v.payload ?? null);
    const taken = payloads.get(v.name);
    const name = taken === undefined || taken === payload ? v.name : `${v.name}@${scope}`;
    payloads.set(name, payload);
    variants[name] = v.payload ?? null;
    return name;
  };
  const split = (
    list: UnleashVariant[] | undefined,
    scope: number,
    groupId: string,
    stickiness: string | undefined,
  ) => {
    if (!list || list.reduce((a, v) => a + v.weight, 0) <= 0) return undefined;
    const names = list.map((v) => nameFor(v, scope));
    return {
      split: list.map((v, i) => ({ variant: names[i]!, weight: v.weight })),
      stickiness: variantStickiness(stickiness),
      groupId,
      overrides: list.flatMap((v, i) =>
        (v.overrides ?? []).map((o) => ({ attribute: o.contextName, values: o.values, variant: names[i]! })),
      ),
    };
  };

  const rules: RuleInput[] = (feature.strategies ?? []).map((strategy, index) => {
    const rule: RuleInput = { id: `${strategy.name}-${index}` };
    const constraints = importConstraints(strategy.constraints ?? [], `${where} strategy ${index}`, warnings);
    const missing = (strategy.segments ?? []).filter((id) => !segmentIds.has(id));
    if (missing.length > 0) warnings.push(`${where}: strategy ${index} uses missing segment(s) ${missing.join(', ')}`);
    const condition = strategyCondition(strategy, feature.name, warnings, where);
    if (constraints === undefined || missing.length > 0 || condition === undefined)
      return { ...rule, targetingKeys: [] };
    Object.assign(rule, condition);
    if (constraints.length > 0) rule.constraints = constraints;
    if (strategy.segments?.length) rule.segments = strategy.segments.map(String);
    const strategyStickiness = strategy.variants?.[0]?.stickiness || stringParam(strategy.parameters?.stickiness);
    const variant = split(strategy.variants, index, String(strategy.parameters?.groupId), strategyStickiness);
    if (variant) rule.variant = variant;
    return rule;
  });

  const featureSplit = split(feature.variants, -1, feature.name, feature.variants?.[0]?.stickiness);
  const on = onVariantName(feature);
  variants[on] = true;
  const off = freeName('off', feature);
  variants[off] = false;

  let enabled = feature.enabled;
  const prerequisites = (feature.dependencies ?? []).map((d) => {
    const parent = features.get(d.feature);
    // Unleash names a parent that is on without a variant "disabled"; here that parent serves its "on" variant.
    const wanted = d.variants?.flatMap((v) => (v === 'disabled' && parent ? [v, onVariantName(parent)] : [v]));
    return { flag: d.feature, enabled: d.enabled !== false, ...(wanted?.length ? { variants: wanted } : {}) };
  });
  for (const d of feature.dependencies ?? []) {
    const parent = features.get(d.feature);
    // Unleash answers off for a missing parent, and for a parent that has dependencies of its own.
    if (!parent || parent.dependencies?.length) {
      warnings.push(
        `${where}: depends on ${parent ? 'a feature with dependencies of its own' : 'a missing feature'}: ${d.feature}`,
      );
      enabled = false;
    }
  }
  return {
    enabled,
    ...(feature.description ? { description: feature.description } : {}),
    variants: variants,
    defaultVariant: featureSplit ?? on,
    offVariant: off,
    prerequisites: enabled ? prerequisites : [],
    rules,
  };
}

/** The name of the variant an imported flag serves when on without an Unleash variant: `on`, unless taken. */
function onVariantName(feature: UnleashFeature): string {
  return freeName('on', feature);
}

function freeName(name: string, feature: UnleashFeature): string {
  const taken = new Set([
    ...(feature.variants ?? []).map((v) => v.name),
    ...(feature.strategies ?? []).flatMap((s) => (s.variants ?? []).map((v) => v.name)),
  ]);
  let candidate = name;
  while (taken.has(candidate)) candidate = `_${candidate}`;
  return candidate;
}

const stringParam = (v: string | number | undefined) => (v === undefined || v === '' ? undefined : String(v));

/** Variant stickiness: Unleash's `default` tries userId, sessionId, remoteAddress, then a random bucket. */
function variantStickiness(stickiness: string | undefined): string[] {
  if (!stickiness || stickiness === 'default') return ['userId', 'sessionId', 'remoteAddress', 'random'];
  return [stickiness, 'random'];
}

function percentageOf(value: string | number | undefined): number | undefined {
  const n = Number(value);
  return Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : undefined;
}

/** A strategy's own condition as rule fields; `undefined` when it can never match. */
function strategyCondition(
  strategy: UnleashStrategy,
  featureName: string,
  warnings: string[],
  where: string,
): Partial<RuleInput> | undefined {
  const p = strategy.parameters ?? {};
  const list = (v: string | number | undefined) => (v === undefined ? [] : String(v).split(/\s*,\s*/));
  const rollout = (percentage: string | number | undefined, stickiness: string[], groupId: string) => {
    const pct = percentageOf(percentage);
    return pct === undefined ? undefined : { rollout: { percentage: pct, stickiness, groupId } };
  };
  switch (strategy.name) {
    case 'default':
      return {};
    case 'userWithId':
      return { targetingKeys: list(p.userIds) };
    case 'gradualRolloutUserId':
      return rollout(p.percentage, ['userId'], String(p.groupId ?? ''));
    case 'gradualRolloutSessionId':
      return rollout(p.percentage, ['sessionId'], String(p.groupId ?? ''));
    case 'gradualRolloutRandom':
      return rollout(p.percentage, ['random'], '');
    case 'flexibleRollout': {
      const s = stringParam(p.stickiness) ?? 'default';
      const stickiness = s === 'default' ? ['userId', 'sessionId', 'random'] : s === 'random' ? ['random'] : [s];
      return rollout(p.rollout, stickiness, stringParam(p.groupId) ?? featureName);
    }
    case 'remoteAddress': {
      const ips = list(p.IPs).filter((ip) => ip !== '');
      if (ips.length === 0) return undefined;
      return { constraints: [{ attribute: 'remoteAddress', operator: 'in_cidr', values: ips }] };
    }
    case 'applicationHostname':
      return { hostNames: list(p.hostNames).filter((h) => h !== '') };
    default:
      warnings.push(`${where}: unknown strategy ${strategy.name} never matches`);
      return undefined;
  }
}

/**
 * Constraints in Bulwark's form. Those Unleash would always answer false for (unknown operator, unusable operand,
 * no values) become that constant: dropped when inverted (then always true), or the whole list is `undefined`
 * (it can never hold).
 */
function importConstraints(list: UnleashConstraint[], where: string, warnings: string[]) {
  const out: NonNullable<RuleInput['constraints']> = [];
  for (const c of list) {
    const operator = c.operator.toLowerCase();
    const candidate = {
      attribute: operator.startsWith('date_') ? 'currentTime' : c.contextName,
      operator,
      values: (c.values ?? []).filter((v) => typeof v === 'string' && v.trim() !== ''),
      ...(c.value !== undefined && c.value !== null ? { value: c.value } : {}),
      inverted: c.inverted === true,
      caseInsensitive: c.caseInsensitive === true,
    };
    if (constraintSchema.safeParse(candidate).success) {
      out.push(candidate as never);
      continue;
    }
    // Unleash answers true for NOT_IN with no values (nothing to be in), and false for every other unusable one.
    const constant = operator === 'not_in' && candidate.values.length === 0;
    if (constant !== candidate.inverted) continue;
    if (!['in', 'not_in'].includes(operator))
      warnings.push(`${where}: constraint ${c.contextName} ${c.operator} never holds`);
    return undefined;
  }
  return out;
}

/**
 * An Unleash context as a Bulwark evaluation context: `properties` flattened (top-level fields win, as in
 * Unleash), and `userId` as the targeting key.
 *
 * @example
 * ```ts
 * flags.isEnabled('Feature.B', unleashContext({ userId: '123', properties: { plan: 'pro' } }));
 * ```
 */
export function unleashContext(context: UnleashContext): EvaluationContext {
  const out: Record<string, unknown> = { ...context.properties };
  for (const [key, value] of Object.entries(context)) {
    if (key !== 'properties' && value !== undefined && value !== null) out[key] = value;
  }
  if (context.userId !== undefined) out.targetingKey = context.userId;
  return out;
}

/**
 * An evaluation of an imported flag in Unleash's `getVariant` shape: `disabled` unless the flag is on and served
 * one of its Unleash variants.
 *
 * @example
 * ```ts
 * toUnleashVariant(flags.evaluate('Feature.Variants.B', unleashContext({ userId: '2' })));
 * // { name: 'variant2', payload: { type: 'string', value: 'val2' }, enabled: true, feature_enabled: true }
 * ```
 */
export function toUnleashVariant(result: FlagEvaluation): UnleashVariantResult {
  if (!result.enabled || result.variant === undefined || typeof result.value === 'boolean') {
    return { name: 'disabled', enabled: false, feature_enabled: result.enabled };
  }
  return {
    name: result.variant.replace(/@-?\d+$/, ''),
    ...(result.value !== null ? { payload: result.value } : {}),
    enabled: true,
    feature_enabled: true,
  };
}
