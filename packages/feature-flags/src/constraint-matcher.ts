import { cidrContains, parseCidr, parseIp, type Cidr } from '@bulwark/http';
import { RE2JS } from 're2js';
import semver from 'semver';
import type { Constraint } from './flag-definition.js';

/** An evaluation context: OpenFeature's shape, a targeting key plus any attributes. */
export type EvaluationContext = Readonly<Record<string, unknown>> & { readonly targetingKey?: string };

/** A compiled constraint: true when the context satisfies it. Never throws. */
export type ContextMatcher = (context: EvaluationContext) => boolean;

/**
 * An attribute as text, the way every operator but the date ones compares it; `undefined` when absent. Dates are
 * written as ISO text so `in` and the string operators see what a JSON document would hold; other objects and
 * arrays have no text and count as absent.
 */
export function attributeText(context: EvaluationContext, attribute: string): string | undefined {
  const value = context[attribute];
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return value instanceof Date ? value.toISOString() : undefined;
    default:
      return undefined;
  }
}

/** A date attribute in epoch ms: a `Date`, epoch ms, or date text. `currentTime`, when absent, is now. */
function attributeTime(context: EvaluationContext, attribute: string, now: () => number): number {
  const value = context[attribute];
  if (value === undefined || value === null) return attribute === 'currentTime' ? now() : Number.NaN;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
}

const cleanValues = (values: readonly string[]) => values.map((v) => v.trim()).filter((v) => v !== '');

/**
 * Compiles a validated constraint once, so evaluation does no parsing: sets for `in`, a parsed version for semver,
 * a compiled RE2 program for `regex`, a `BlockList` for `in_cidr`. Semantics follow Unleash's SDKs: a missing
 * attribute fails every operator (so `not_in` holds), and `inverted` negates the final answer.
 *
 * @example
 * ```ts
 * const m = compileConstraint(constraintSchema.parse({ attribute: 'plan', operator: 'in', values: ['pro'] }));
 * m({ plan: 'pro' }); // true
 * ```
 */
export function compileConstraint(c: Constraint, now: () => number = Date.now): ContextMatcher {
  const test = compileTest(c, now);
  return c.inverted ? (context) => !test(context) : test;
}

function compileTest(c: Constraint, now: () => number): ContextMatcher {
  const { attribute, caseInsensitive } = c;
  const fold = (s: string) => (caseInsensitive ? s.toLocaleLowerCase() : s);
  switch (c.operator) {
    case 'in':
    case 'not_in': {
      const set = new Set(cleanValues(c.values));
      const isIn = (context: EvaluationContext) => {
        const v = attributeText(context, attribute);
        return v !== undefined && set.has(v);
      };
      return c.operator === 'in' ? isIn : (context) => !isIn(context);
    }
    case 'str_contains':
    case 'str_starts_with':
    case 'str_ends_with': {
      const values = cleanValues(c.values).map(fold);
      const op = c.operator;
      return (context) => {
        const raw = attributeText(context, attribute);
        if (raw === undefined) return false;
        const v = fold(raw);
        for (const x of values) {
          if (op === 'str_contains' ? v.includes(x) : op === 'str_starts_with' ? v.startsWith(x) : v.endsWith(x)) {
            return true;
          }
        }
        return false;
      };
    }
    case 'num_eq':
    case 'num_gt':
    case 'num_gte':
    case 'num_lt':
    case 'num_lte': {
      const operand = Number(c.value);
      const compare = numberComparisons[c.operator]!;
      return (context) => {
        const raw = context[attribute];
        const v = typeof raw === 'number' ? raw : Number(attributeText(context, attribute));
        return !Number.isNaN(v) && compare(v, operand);
      };
    }
    case 'date_after':
    case 'date_before': {
      const operand = new Date(c.value!).getTime();
      const after = c.operator === 'date_after';
      return (context) => {
        const t = attributeTime(context, attribute, now);
        return after ? t > operand : t < operand;
      };
    }
    case 'semver_eq':
    case 'semver_gt':
    case 'semver_gte':
    case 'semver_lt':
    case 'semver_lte': {
      const operand = new semver.SemVer(c.value!);
      const wanted = semverOutcomes[c.operator]!;
      // Parsing a version allocates and costs ~10 constraint checks; requests mostly repeat a handful of versions,
      // so the last answer is kept.
      let lastInput: string | undefined;
      let lastAnswer = false;
      return (context) => {
        const v = attributeText(context, attribute);
        if (v === undefined) return false;
        if (v === lastInput) return lastAnswer;
        // Unleash refuses a leading "v" that semver would accept.
        const answer = !v.startsWith('v') && semver.valid(v) !== null && wanted.includes(semver.compare(v, operand));
        lastInput = v;
        lastAnswer = answer;
        return answer;
      };
    }
    case 'regex': {
      const re = RE2JS.compile(c.value!, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
      return (context) => {
        const v = attributeText(context, attribute);
        return v !== undefined && re.matcher(v).find();
      };
    }
    case 'in_cidr': {
      // @bulwark/http's parser and matcher: several times faster than node:net's BlockList, which crosses into C++
      // and builds a socket address on every check (docs/benchmarks-ip.md).
      const ranges = cleanValues(c.values)
        .map(parseCidr)
        .filter((r): r is Cidr => r !== undefined);
      return (context) => {
        const v = attributeText(context, attribute);
        const ip = v === undefined ? undefined : parseIp(v);
        if (ip === undefined) return false;
        for (let i = 0; i < ranges.length; i++) if (cidrContains(ranges[i]!, ip)) return true;
        return false;
      };
    }
  }
}

const numberComparisons: Record<string, (a: number, b: number) => boolean> = {
  num_eq: (a, b) => a === b,
  num_gt: (a, b) => a > b,
  num_gte: (a, b) => a >= b,
  num_lt: (a, b) => a < b,
  num_lte: (a, b) => a <= b,
};

/** `semver.compare(context, operand)` results each operator accepts. */
const semverOutcomes: Record<string, readonly number[]> = {
  semver_eq: [0],
  semver_gt: [1],
  semver_gte: [0, 1],
  semver_lt: [-1],
  semver_lte: [-1, 0],
};
