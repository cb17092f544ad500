import { hostname } from 'node:os';
import { bucket, variantSeed } from './bucket.js';
import { attributeText, compileConstraint, type ContextMatcher, type EvaluationContext } from './constraint-matcher.js';
import type { EvaluationReason } from './flag-evaluation.js';
import type { FlagDefinition, FlagDocument, Rule, Serve } from './flag-definition.js';

/**
 * One evaluation's answer, written in place: the evaluator reuses a single one so that `isEnabled` allocates
 * nothing. `hasValue` false means "answer the caller's default".
 */
export interface Verdict {
  variant: string | undefined;
  value: unknown;
  hasValue: boolean;
  enabled: boolean;
  reason: EvaluationReason;
  ruleId: string | undefined;
}

/** A fresh verdict to evaluate into. */
export const newVerdict = (): Verdict => ({
  variant: undefined,
  value: undefined,
  hasValue: false,
  enabled: false,
  reason: 'DEFAULT',
  ruleId: undefined,
});

/** What compiling needs from outside the document: randomness, the time, this host's name. */
export interface CompileEnvironment {
  readonly random: () => number;
  /** Epoch ms, for date constraints on an absent `currentTime`. */
  readonly now: () => number;
  readonly hostname?: string;
}

/** Writes the served variant into the verdict; returns the reason (`SPLIT` when hashing chose it). */
type Server = (context: EvaluationContext, out: Verdict) => EvaluationReason;

interface CompiledRule {
  readonly id: string;
  readonly match: ContextMatcher;
  readonly serve: Server | undefined;
  readonly rollout: boolean;
}

interface CompiledPrerequisite {
  flag: CompiledFlag;
  readonly enabled: boolean;
  readonly variants: ReadonlySet<string> | undefined;
}

const RANDOM = 'random';

/**
 * The bucketing key: the first stickiness attribute present and non-empty; `null` for the `random` keyword;
 * `undefined` when none is present.
 */
function stickyValue(context: EvaluationContext, stickiness: readonly string[]): string | null | undefined {
  for (let i = 0; i < stickiness.length; i++) {
    const attribute = stickiness[i]!;
    if (attribute === RANDOM) return null;
    const v = attributeText(context, attribute);
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** One flag, compiled: every set, regex, version and hash group prepared, so evaluation only compares. */
export class CompiledFlag {
  readonly key: string;
  readonly definition: FlagDefinition;
  readonly #variants: Readonly<Record<string, unknown>>;
  readonly #off: string | undefined;
  readonly #default: Server | undefined;
  readonly #allow: ReadonlySet<string>;
  readonly #deny: ReadonlySet<string>;
  readonly #rules: readonly CompiledRule[];
  readonly prerequisites: CompiledPrerequisite[] = [];

  constructor(key: string, definition: FlagDefinition, segments: FlagDocument['segments'], env: CompileEnvironment) {
    this.key = key;
    this.definition = definition;
    this.#variants = definition.variants;
    this.#off = definition.offVariant;
    this.#default = definition.defaultVariant === undefined ? undefined : this.#server(definition.defaultVariant, env);
    this.#allow = new Set(definition.allow);
    this.#deny = new Set(definition.deny);
    this.#rules = definition.rules.map((rule, i) => this.#rule(rule, i, segments, env));
  }

  /** Evaluates this flag for `context` into `out`. */
  evaluate(context: EvaluationContext, out: Verdict): void {
    out.ruleId = undefined;
    if (!this.definition.enabled) return this.#serveOff(out, 'DISABLED');
    const prerequisites = this.prerequisites;
    for (let i = 0; i < prerequisites.length; i++) {
      const p = prerequisites[i]!;
      p.flag.evaluate(context, out);
      const ok = p.enabled ? out.enabled && (p.variants === undefined || p.variants.has(out.variant!)) : !out.enabled;
      if (!ok) return this.#serveOff(out, 'PREREQUISITE_FAILED');
    }
    out.ruleId = undefined;
    if (this.#deny.size > 0 || this.#allow.size > 0) {
      const key = attributeText(context, 'targetingKey');
      if (key !== undefined && this.#deny.has(key)) return this.#serveOff(out, 'TARGETING_MATCH', 'deny');
      if (key !== undefined && this.#allow.has(key)) {
        out.ruleId = 'allow';
        return this.#serveOn(context, out, this.#default!, 'TARGETING_MATCH');
      }
    }
    const rules = this.#rules;
    if (rules.length === 0) return this.#serveOn(context, out, this.#default!, 'STATIC');
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if (rule.match(context)) {
        out.ruleId = rule.id;
        return this.#serveOn(context, out, rule.serve ?? this.#default!, rule.rollout ? 'SPLIT' : 'TARGETING_MATCH');
      }
    }
    this.#serveOff(out, 'DEFAULT');
  }

  #serveOn(context: EvaluationContext, out: Verdict, serve: Server, reason: EvaluationReason): void {
    const served = serve(context, out);
    out.enabled = true;
    out.hasValue = true;
    // A fixed variant takes the situation's reason; a split or an override reports its own.
    out.reason = served === 'STATIC' ? reason : served;
  }

  #serveOff(out: Verdict, reason: EvaluationReason, ruleId?: string): void {
    out.enabled = false;
    out.reason = reason;
    out.ruleId = ruleId;
    const off = this.#off;
    out.variant = off;
    out.hasValue = off !== undefined;
    out.value = off === undefined ? undefined : this.#variants[off];
  }

  #server(serve: Serve, env: CompileEnvironment): Server {
    const variants = this.#variants;
    if (typeof serve === 'string') {
      const value = variants[serve];
      return (_context, out) => {
        out.variant = serve;
        out.value = value;
        return 'STATIC';
      };
    }
    const names = serve.split.map((s) => s.variant);
    const values = names.map((n) => variants[n]);
    const weights = serve.split.map((s) => s.weight);
    const total = weights.reduce((a, b) => a + b, 0);
    const groupId = serve.groupId ?? this.key;
    const stickiness = serve.stickiness;
    const overrides = serve.overrides.map((o) => ({
      attribute: o.attribute,
      values: new Set(o.values),
      variant: o.variant,
      value: variants[o.variant],
    }));
    return (context, out) => {
      for (let i = 0; i < overrides.length; i++) {
        const o = overrides[i]!;
        const v = attributeText(context, o.attribute);
        if (v !== undefined && o.values.has(v)) {
          out.variant = o.variant;
          out.value = o.value;
          return 'TARGETING_MATCH';
        }
      }
      const sticky = stickyValue(context, stickiness);
      const target =
        typeof sticky === 'string' ? bucket(sticky, groupId, total, variantSeed) : 1 + Math.floor(env.random() * total);
      let counter = 0;
      for (let i = 0; i < weights.length; i++) {
        const w = weights[i]!;
        if (w === 0) continue;
        counter += w;
        if (counter >= target) {
          out.variant = names[i];
          out.value = values[i];
          return 'SPLIT';
        }
      }
      // Unreachable: target ≤ total. Kept so a verdict is always written.
      out.variant = names[0];
      out.value = values[0];
      return 'SPLIT';
    };
  }

  #rule(rule: Rule, index: number, segments: FlagDocument['segments'], env: CompileEnvironment): CompiledRule {
    const tests: ContextMatcher[] = [];
    if (rule.hostNames) {
      const host = (env.hostname ?? process.env.HOSTNAME ?? hostname()).toLowerCase();
      const listed = rule.hostNames.some((h) => h.trim().toLowerCase() === host);
      if (!listed) tests.push(() => false);
    }
    if (rule.targetingKeys) {
      const keys = new Set(rule.targetingKeys);
      tests.push((context) => {
        const key = attributeText(context, 'targetingKey');
        return key !== undefined && keys.has(key);
      });
    }
    for (const c of rule.constraints) tests.push(compileConstraint(c, env.now));
    for (const name of rule.segments)
      for (const c of segments[name]!.constraints) tests.push(compileConstraint(c, env.now));
    if (rule.rollout) {
      const { percentage, stickiness } = rule.rollout;
      const groupId = rule.rollout.groupId ?? this.key;
      tests.push((context) => {
        const sticky = stickyValue(context, stickiness);
        if (sticky === undefined) return false;
        const b = sticky === null ? 1 + Math.floor(env.random() * 100) : bucket(sticky, groupId);
        return percentage > 0 && b <= percentage;
      });
    }
    return {
      id: rule.id ?? `rule-${index}`,
      match: all(tests),
      serve: rule.variant === undefined ? undefined : this.#server(rule.variant, env),
      rollout: rule.rollout !== undefined,
    };
  }
}

/** One matcher for a conjunction; the common short cases without a loop. */
function all(tests: readonly ContextMatcher[]): ContextMatcher {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (context) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(context)) return false;
    return true;
  };
}

/**
 * Compiles a validated document: every flag, then the links between prerequisites. The result is immutable;
 * a new document compiles into a new map that replaces the old one in one assignment, so no evaluation ever sees
 * half of a change.
 */
export function compileFlags(document: FlagDocument, env: CompileEnvironment): ReadonlyMap<string, CompiledFlag> {
  const flags = new Map<string, CompiledFlag>();
  for (const [key, definition] of Object.entries(document.flags)) {
    flags.set(key, new CompiledFlag(key, definition, document.segments, env));
  }
  for (const flag of flags.values()) {
    for (const p of flag.definition.prerequisites) {
      flag.prerequisites.push({
        flag: flags.get(p.flag)!,
        enabled: p.enabled,
        variants: p.variants ? new Set(p.variants) : undefined,
      });
    }
  }
  return flags;
}
