import { z } from 'zod';
import { BulwarkError, isBulwarkError } from '@bulwark/core';
import { parseOptions } from '@bulwark/core/internal';

const optionsSchema = z
  .object({
    /** Longest document, in UTF-8 bytes. */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(10 * 1024 * 1024),
    /** Deepest nesting of objects and arrays. */
    maxDepth: z.number().int().positive().max(10_000).default(64),
    /** Most object keys in the whole document. */
    maxKeys: z.number().int().positive().default(100_000),
    /** Longest string (key or value), in UTF-16 code units as JavaScript counts them. */
    maxStringLength: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** A `__proto__` key: refuse the document (`error`) or drop the key (`remove`). */
    protoAction: z.enum(['error', 'remove']).default('error'),
    /** A `constructor` key holding a `prototype`: refuse the document or drop the key. */
    constructorAction: z.enum(['error', 'remove']).default('error'),
  })
  .strict();

/** Options of {@link jsonParser} and {@link parseJson}. */
export type JsonParserOptions = z.input<typeof optionsSchema>;

/** What a refused document broke: a limit, the JSON syntax, or a prototype key. */
export type JsonRefusal = 'maxBytes' | 'maxDepth' | 'maxKeys' | 'maxStringLength' | 'syntax' | 'proto' | 'constructor';

/**
 * A refused JSON document. `code` is `BULWARK_JSON`; `reason` says which limit or rule, and `position` where (a
 * UTF-16 offset) when known. The message never quotes the input.
 */
export class JsonError extends BulwarkError {
  declare readonly code: 'BULWARK_JSON';
  readonly reason: JsonRefusal;
  readonly position: number | undefined;

  constructor(reason: JsonRefusal, message: string, position?: number) {
    super('BULWARK_JSON', message);
    this.reason = reason;
    this.position = position;
  }
}

/**
 * True when `error` is a {@link JsonError} (from any copy of the package: `instanceof` fails across the ESM and
 * CommonJS builds).
 *
 * @example
 * ```ts
 * try { body = parse(text); } catch (e) { if (isJsonError(e)) return reply.code(400).send({ reason: e.reason }); throw e; }
 * ```
 */
export function isJsonError(error: unknown): error is JsonError {
  return isBulwarkError(error, 'BULWARK_JSON');
}

const QUOTE = 34;
const COLON = 58;
const OPEN_BRACE = 123;
const OPEN_BRACKET = 91;
const CLOSE_BRACE = 125;
const CLOSE_BRACKET = 93;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A JSON parser with limits, validated once: size, nesting depth, key count and string length are checked by one
 * pass over the text *before* `JSON.parse` runs (which accepts a million-deep document that every recursive walker
 * after it would crash on), and `__proto__` / `constructor.prototype` keys, escaped or not, are refused or removed.
 * Errors name the rule broken, never the input.
 *
 * @example
 * ```ts
 * const parse = jsonParser({ maxBytes: 1_000_000, maxDepth: 32 });
 * parse('{"a":[1,2]}'); // { a: [1, 2] }
 * parse('{"__proto__":{"admin":true}}'); // throws JsonError, reason 'proto'
 * ```
 */
export function jsonParser(options?: JsonParserOptions): (text: string | Uint8Array) => unknown {
  const o = parseOptions(optionsSchema, options ?? {}, 'jsonParser()');
  const { maxBytes, maxDepth, maxKeys, maxStringLength } = o;

  return (input) => {
    let text: string;
    if (typeof input === 'string') {
      if (input.length > maxBytes) throw tooLarge(maxBytes);
      // UTF-8 takes at most 3 bytes per UTF-16 unit: only a long text needs counting.
      if (input.length * 3 > maxBytes && Buffer.byteLength(input, 'utf8') > maxBytes) throw tooLarge(maxBytes);
      text = input;
    } else {
      if (input.byteLength > maxBytes) throw tooLarge(maxBytes);
      try {
        text = decoder.decode(input);
      } catch {
        throw new JsonError('syntax', 'the document is not valid UTF-8');
      }
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

    let depth = 0;
    let keys = 0;
    let proto = false;
    let ctor = false;
    const length = text.length;
    // Next backslash at or after the scan position, found once and reused, so strings without escapes cost one
    // indexOf for their closing quote and nothing more.
    let nextBackslash = text.indexOf('\\');
    // Key names need decoding and comparing only where a prototype key could be: spelled out, or hidden by escapes.
    const checkKeys = nextBackslash !== -1 || text.includes('__proto__') || text.includes('constructor');
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        let end = text.indexOf('"', i + 1);
        let escaped = false;
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = text.indexOf('\\', i);
        while (end !== -1 && nextBackslash !== -1 && nextBackslash < end) {
          escaped = true;
          // Skip the escape and the character it escapes; a quote right after a backslash is not the end.
          const after = nextBackslash + 2;
          if (after > end) end = text.indexOf('"', after);
          nextBackslash = text.indexOf('\\', after);
        }
        if (end === -1) throw new JsonError('syntax', 'unterminated string', i);
        if (end - i - 1 > maxStringLength && decodedLength(text, i, end, escaped) > maxStringLength) {
          throw new JsonError('maxStringLength', `a string is longer than ${maxStringLength} characters`, i);
        }
        if (checkKeys && (escaped || end - i - 1 === 9 || end - i - 1 === 11) && isKey(text, end + 1)) {
          const key = escaped ? decodeString(text, i, end) : text.slice(i + 1, end);
          if (key === '__proto__') {
            if (o.protoAction === 'error') throw new JsonError('proto', 'a "__proto__" key is not allowed', i);
            proto = true;
          } else if (key === 'constructor') {
            ctor = true;
          }
        }
        i = end;
      } else if (c === COLON) {
        // Outside strings a colon ends a key.
        if (++keys > maxKeys) throw new JsonError('maxKeys', `the document has more than ${maxKeys} keys`, i);
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (++depth > maxDepth) throw new JsonError('maxDepth', `the document nests deeper than ${maxDepth}`, i);
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
      }
    }

    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new JsonError('syntax', `not valid JSON: ${(error as Error).message.replace(/"[^"]*"/g, '…')}`);
    }
    if (proto || ctor) value = scrub(value, proto, ctor, o.constructorAction);
    return value;
  };
}

/** True when the string that ended just before `at` is followed (after blanks) by a colon: an object key. */
function isKey(text: string, at: number): boolean {
  while (at < text.length && isSpace(text.charCodeAt(at))) at++;
  return text.charCodeAt(at) === COLON;
}

function tooLarge(maxBytes: number): JsonError {
  return new JsonError('maxBytes', `the document is larger than ${maxBytes} bytes`);
}

/** The string token between the quotes at `start` and `end`, decoded (escapes resolved). */
function decodeString(text: string, start: number, end: number): string {
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    throw new JsonError('syntax', 'malformed string escape', start);
  }
}

function decodedLength(text: string, start: number, end: number, escaped: boolean): number {
  return escaped ? decodeString(text, start, end).length : end - start - 1;
}

/**
 * Removes `__proto__` keys (when `proto`) and checks `constructor` keys holding a `prototype` (when `ctor`),
 * breadth first so depth cannot overflow the stack (the scan already bounded it).
 */
function scrub(value: unknown, proto: boolean, ctor: boolean, constructorAction: 'error' | 'remove'): unknown {
  let level: unknown[] = [value];
  while (level.length > 0) {
    const next: unknown[] = [];
    for (const node of level) {
      if (typeof node !== 'object' || node === null) continue;
      const record = node as Record<string, unknown>;
      if (proto && Object.prototype.hasOwnProperty.call(record, '__proto__'))
        Reflect.deleteProperty(record, '__proto__');
      if (
        ctor &&
        Object.prototype.hasOwnProperty.call(record, 'constructor') &&
        typeof record.constructor === 'object' &&
        record.constructor !== null &&
        Object.prototype.hasOwnProperty.call(record.constructor, 'prototype')
      ) {
        if (constructorAction === 'error') {
          throw new JsonError('constructor', 'a "constructor" key holding a "prototype" is not allowed');
        }
        Reflect.deleteProperty(record, 'constructor');
      }
      for (const key of Object.keys(record)) next.push(record[key]);
    }
    level = next;
  }
  return value;
}

let defaultParser: ((text: string | Uint8Array) => unknown) | undefined;

/**
 * Parses JSON with the default limits (10 MB, depth 64, 100k keys, 1M-character strings, prototype keys refused),
 * or with `options` (validated on each call: build a {@link jsonParser} once for a hot path).
 *
 * @example
 * ```ts
 * parseJson(body, { maxDepth: 16 });
 * ```
 */
export function parseJson(text: string | Uint8Array, options?: JsonParserOptions): unknown {
  if (options === undefined) return (defaultParser ??= jsonParser())(text);
  return jsonParser(options)(text);
}
