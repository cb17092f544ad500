import { RE2JS } from 're2js';

/** What a rule looks for. */
export type SuspiciousCategory = 'sqli' | 'xss' | 'traversal' | 'command' | 'nosql' | 'template';

/** One match: which rule, of which category, where in the value (a dotted path; `''` for the value itself). */
export interface SuspiciousFinding {
  readonly rule: string;
  readonly category: SuspiciousCategory;
  readonly path: string;
}

interface Rule {
  readonly id: string;
  readonly category: SuspiciousCategory;
  readonly re: RE2JS;
}

// Signatures of common attacks, matched on lower-cased, NFKC-normalised, once-percent-decoded text. RE2 syntax:
// matching is linear in the input whatever it holds. They are signals for logs and rate limits, not a filter.
const rules: readonly Rule[] = (
  [
    ['sqli.tautology', 'sqli', `['"\\)]\\s*(or|and)\\s+['"]?\\w+['"]?\\s*=\\s*['"]?\\w+`],
    ['sqli.union-select', 'sqli', `\\bunion\\b[\\s\\S]{0,20}\\bselect\\b`],
    ['sqli.stacked-query', 'sqli', `;\\s*(drop|delete|insert|update|alter|create|truncate|exec)\\s`],
    ['sqli.comment-after-quote', 'sqli', `['"]\\s*(--|#|/\\*)`],
    ['sqli.time-based', 'sqli', `\\b(sleep|benchmark|pg_sleep|waitfor\\s+delay)\\s*\\(`],
    ['xss.script-tag', 'xss', `<\\s*script\\b`],
    ['xss.event-handler', 'xss', `<[^>]*\\s(on[a-z]+)\\s*=`],
    ['xss.javascript-url', 'xss', `(javascript|vbscript)\\s*:`],
    ['xss.dangerous-tag', 'xss', `<\\s*(iframe|object|embed|svg|math|base|meta|link)\\b`],
    ['traversal.dot-dot', 'traversal', `(^|[/\\\\])\\.\\.([/\\\\]|$)`],
    ['traversal.system-file', 'traversal', `(/etc/(passwd|shadow|hosts)|c:\\\\windows\\\\|/proc/self/)`],
    ['command.chained', 'command', `(;|&&|\\|\\|?)\\s*(rm|curl|wget|nc|bash|sh|cat|chmod|python|perl|powershell)\\b`],
    ['command.substitution', 'command', `(\\$\\([^)]*\\)|\`[^\`]*\`)`],
    ['nosql.operator', 'nosql', `^\\$(where|ne|gt|gte|lt|lte|regex|in|nin|expr|function)$`],
    ['template.expression', 'template', `(\\{\\{[^}]*\\}\\}|\\$\\{[^}]*\\}|<%[^%]*%>)`],
  ] as const
).map(([id, category, pattern]) => ({ id, category, re: RE2JS.compile(pattern) }));

/** Text as the rules see it: percent-decoded once (when well formed), NFKC, lower case. */
function canonical(text: string): string {
  let decoded = text;
  if (text.includes('%')) {
    try {
      decoded = decodeURIComponent(text);
    } catch {
      // Malformed escapes stay as written.
    }
  }
  return decoded.normalize('NFKC').toLowerCase();
}

/**
 * Looks for attack signatures (SQL injection, XSS, path traversal, command injection, NoSQL operators, template
 * expressions) in a value: a string, or the strings and keys of an object or array, walked to `maxDepth`. Returns
 * rule ids and where they matched, never the text. A signal for audit logs and rate limiting, as OWASP advises:
 * it never rewrites or blocks, and it is not a defence (parameterised queries, output encoding and `safeJoin` are).
 * Each string is scanned up to `maxLength` characters, in time linear in its length (RE2).
 *
 * @example
 * ```ts
 * detectSuspicious({ q: "1' OR '1'='1", file: '../../etc/passwd' });
 * // [{ rule: 'sqli.tautology', category: 'sqli', path: 'q' }, { rule: 'traversal.dot-dot', …, path: 'file' }, …]
 * ```
 */
export function detectSuspicious(
  value: unknown,
  options: { maxLength?: number; maxDepth?: number } = {},
): SuspiciousFinding[] {
  const maxLength = options.maxLength ?? 10_000;
  const maxDepth = options.maxDepth ?? 8;
  const findings: SuspiciousFinding[] = [];
  const scan = (text: string, path: string, isKey: boolean) => {
    const seen = canonical(text.length > maxLength ? text.slice(0, maxLength) : text);
    for (const rule of rules) {
      // Operator names are a NoSQL signal only as object keys.
      if (rule.category === 'nosql' && !isKey) continue;
      if (rule.re.matcher(seen).find()) findings.push({ rule: rule.id, category: rule.category, path });
    }
  };
  const walk = (node: unknown, path: string, depth: number) => {
    if (typeof node === 'string') scan(node, path, false);
    else if (depth < maxDepth && Array.isArray(node))
      node.forEach((item, i) => walk(item, join(path, String(i)), depth + 1));
    else if (depth < maxDepth && typeof node === 'object' && node !== null) {
      for (const [key, item] of Object.entries(node)) {
        scan(key, join(path, key), true);
        walk(item, join(path, key), depth + 1);
      }
    }
  };
  walk(value, '', 0);
  return findings;
}

const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);
