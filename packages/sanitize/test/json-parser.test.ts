import fc from 'fast-check';
import secureJson from 'secure-json-parse';
import { describe, expect, it } from 'vitest';
import { BulwarkError } from '@bulwark/core';
import { isJsonError, jsonParser, parseJson } from '../src/index.js';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (isJsonError(error)) return error.reason;
    throw error;
  }
  return undefined;
};

/** True when a parsed value holds a key secure-json-parse refuses by default. */
function hasPrototypeKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(record, '__proto__')) return true;
  const ctor = Object.prototype.hasOwnProperty.call(record, 'constructor') ? record.constructor : undefined;
  if (typeof ctor === 'object' && ctor !== null && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) return true;
  return Object.keys(record).some((k) => hasPrototypeKey(record[k]));
}

describe('parseJson', () => {
  it('is recognised by isJsonError, and nothing else is', () => {
    expect(refusal(() => parseJson('[[1]]', { maxDepth: 1 }))).toBe('maxDepth');
    expect(isJsonError(new SyntaxError('Unexpected token'))).toBe(false);
    expect(isJsonError(new BulwarkError('BULWARK_PATH_TRAVERSAL', 'x'))).toBe(false);
  });

  it('answers what JSON.parse answers for any document within the limits', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        const expected = JSON.parse(text) as unknown;
        if (hasPrototypeKey(expected)) expect(['proto', 'constructor']).toContain(refusal(() => parseJson(text)));
        else expect(parseJson(text)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses every document secure-json-parse refuses, escaped keys included, and only ones with such keys', () => {
    const key = fc.constantFrom(
      '__proto__',
      '\\u005f_proto__',
      '__proto\\u005f_',
      '\\u005F\\u005Fproto__',
      'constructor',
      '\\u0063onstructor',
      'prototype',
      'proto',
      'a',
    );
    const doc: fc.Arbitrary<string> = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.constant('1'), fc.constant('"__proto__"'), tie('object')),
      object: fc
        .array(fc.tuple(key, tie('value') as fc.Arbitrary<string>), { maxLength: 3 })
        .map((entries) => `{${entries.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
    })).object;
    fc.assert(
      fc.property(doc, (text) => {
        let theirs = false;
        try {
          secureJson.parse(text);
        } catch {
          theirs = true;
        }
        const ours = refusal(() => parseJson(text));
        if (theirs) expect(ours).toBeDefined();
        // Stricter only where JSON.parse would have dropped the key (a duplicate key overwrote it).
        if (ours !== undefined && !theirs) expect(text).toMatch(/"constructor"|\\u0063onstructor|proto/);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses or removes __proto__ and constructor.prototype keys', () => {
    expect(refusal(() => parseJson('{"a":{"__proto__":{"admin":true}}}'))).toBe('proto');
    expect(refusal(() => parseJson('{"\\u005f_proto__":{"admin":true}}'))).toBe('proto');
    expect(refusal(() => parseJson('{"constructor":{"prototype":{"admin":true}}}'))).toBe('constructor');
    expect(parseJson('{"constructor":"fine","v":"__proto__"}')).toEqual({ constructor: 'fine', v: '__proto__' });
    const removed = jsonParser({ protoAction: 'remove', constructorAction: 'remove' })(
      '{"a":1,"__proto__":{"admin":true},"b":{"constructor":{"prototype":{}},"c":[{"__proto__":1}]}}',
    ) as Record<string, unknown>;
    expect(removed).toEqual({ a: 1, b: { c: [{}] } });
    expect(Object.prototype.hasOwnProperty.call(removed, '__proto__')).toBe(false);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('refuses a million-deep document by a scan, before JSON.parse and without a stack overflow', () => {
    const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    expect(refusal(() => parseJson(deep))).toBe('maxDepth');
    const at = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    expect(parseJson(at(64))).toBeDefined();
    expect(refusal(() => parseJson(at(65)))).toBe('maxDepth');
    // brackets inside strings, escaped quotes and backslashes do not count
    expect(parseJson('{"s":"[[[[\\"{{{\\\\","t":"]]]"}', { maxDepth: 1 })).toEqual({ s: '[[[["{{{\\', t: ']]]' });
  });

  it('enforces size, key count and string length, naming the limit and not the input', () => {
    const parse = jsonParser({ maxBytes: 50, maxKeys: 3, maxStringLength: 5 });
    expect(refusal(() => parse(`"${'x'.repeat(60)}"`))).toBe('maxBytes');
    expect(refusal(() => parse(`"${'é'.repeat(30)}"`))).toBe('maxBytes'); // 32 characters, 62 bytes
    expect(refusal(() => parse('{"a":1,"b":2,"c":3,"d":4}'))).toBe('maxKeys');
    expect(refusal(() => parse('["abcdef"]'))).toBe('maxStringLength');
    expect(parse('["\\u0061\\u0062\\u0063\\u0064\\u0065"]')).toEqual(['abcde']); // escapes counted decoded
    let thrown: unknown;
    try {
      parseJson('{"secret-token-123": oops}');
    } catch (error) {
      thrown = error;
    }
    expect(isJsonError(thrown) && thrown.reason).toBe('syntax');
    expect((thrown as Error).message).not.toContain('secret-token-123');
  });

  it('takes bytes, drops a BOM, refuses invalid UTF-8', () => {
    expect(parseJson(new TextEncoder().encode('\uFEFF{"a":"é"}'))).toEqual({ a: 'é' });
    expect(refusal(() => parseJson(new Uint8Array([0x22, 0xff, 0x22])))).toBe('syntax');
  });

  it('refuses bad options at construction', () => {
    expect(() => jsonParser({ maxDepth: 0 })).toThrow(/maxDepth/);
    expect(() => jsonParser({ protoAction: 'ignore' as never })).toThrow(/protoAction/);
  });
});
