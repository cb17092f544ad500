/** What the audit log must never write (OWASP Logging Cheat Sheet, "Data to exclude"), and how it finds it. */
export interface RedactOptions {
  /** More key names to redact (compared ignoring case, `-` and `_`), or patterns tested against the key. */
  keys?: readonly (string | RegExp)[];
  /** Longest string written, in UTF-16 units (default 2048); longer ones are cut and end with `…`. */
  maxFieldLength?: number;
  /** Deepest nesting of `data` kept (default 8); deeper values are written as `[Depth]`. */
  maxDepth?: number;
  /** Most entries kept per object or array in `data` (default 100); the rest are counted in `…`. */
  maxEntries?: number;
}

/** Written in place of a redacted value. */
export const REDACTED = '[REDACTED]';

// Key names compared after lower-casing and removing everything but letters and digits.
const EXACT_KEYS = new Set([
  'pwd',
  'pass',
  'pin',
  'ssn',
  'sid',
  'dsn',
  'pan',
  'cvv',
  'cvv2',
  'cvc',
  'auth',
  'session',
  'sessionid',
  'jsessionid',
  'phpsessid',
  'otp',
  'mfacode',
]);
const KEY_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'privatekey',
  'authorization',
  'cookie',
  'credential',
  'connectionstring',
  'connstr',
  'databaseurl',
  'dburl',
  'cardnumber',
  'creditcard',
  'ccnumber',
  'iban',
  'signature',
];

const normalizeKey = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, '');

/** True when a key name is one the audit log never writes the value of. */
export type KeyTest = (key: string) => boolean;

/** The key test for the built-in names plus `extra`. */
export function sensitiveKeyTest(extra: readonly (string | RegExp)[] = []): KeyTest {
  const exact = new Set(EXACT_KEYS);
  const patterns: RegExp[] = [];
  for (const k of extra) {
    if (typeof k === 'string') exact.add(normalizeKey(k));
    else patterns.push(k);
  }
  const cache = new Map<string, boolean>();
  return (key) => {
    let hit = cache.get(key);
    if (hit === undefined) {
      const n = normalizeKey(key);
      hit = exact.has(n) || KEY_PARTS.some((part) => n.includes(part)) || patterns.some((p) => p.test(key));
      // Keys come from a program's own objects, so the set is small; the bound stops a caller feeding random keys.
      if (cache.size < 10_000) cache.set(key, hit);
    }
    return hit;
  };
}

// Values that are secrets whatever their key: credentials inside URLs, bearer tokens, card numbers.
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s/@]+@/gi;
const BEARER = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const DIGIT_RUN = /\d(?:[ -]?\d){12,18}/g;
const MAYBE_SECRET = /:\/\/|bearer|basic|\d(?:[ -]?\d){12}/i;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Cuts a string to `max` UTF-16 units without splitting a surrogate pair, ending it with `…`. */
export function capString(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = max - 1;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${value.slice(0, end)}…`;
}

/**
 * Removes secrets from one string: the password in `scheme://user:password@host`, bearer and basic credentials,
 * and digit runs that pass the Luhn check (card numbers). Then caps its length.
 */
export function redactString(value: string, max: number): string {
  // One scan decides whether any pattern below can match; most values (words, paths) skip them all.
  if (!MAYBE_SECRET.test(value)) return capString(value, max);
  let out = value;
  if (out.includes('://')) out = out.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
  out = out.replace(BEARER, `$1 ${REDACTED}`);
  out = out.replace(DIGIT_RUN, (run) => (luhn(run.replace(/[ -]/g, '')) ? REDACTED : run));
  return capString(out, max);
}

/** Options with their defaults applied. */
export interface RedactLimits {
  readonly isSensitive: KeyTest;
  readonly maxFieldLength: number;
  readonly maxDepth: number;
  readonly maxEntries: number;
}

/**
 * A copy of `value` safe to write: sensitive keys' values replaced at any depth, strings cleaned and capped, cycles,
 * depth and size bounded, and values JSON cannot hold (bigint, functions, symbols, errors) turned into text.
 */
export function redactValue(value: unknown, limits: RedactLimits, depth = 0, seen = new Set<object>()): unknown {
  switch (typeof value) {
    case 'string':
      return redactString(value, limits.maxFieldLength);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
      return undefined;
    case 'function':
      return '[Function]';
    case 'symbol':
      return capString(value.toString(), limits.maxFieldLength);
  }
  if (value === null) return null;
  const object = value as object;
  if (depth >= limits.maxDepth) return '[Depth]';
  if (seen.has(object)) return '[Circular]';
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  if (Buffer.isBuffer(object) || ArrayBuffer.isView(object)) return `[${object.constructor.name}]`;
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      const out: unknown[] = [];
      const n = Math.min(object.length, limits.maxEntries);
      for (let i = 0; i < n; i++) out.push(redactValue(object[i], limits, depth + 1, seen) ?? null);
      if (object.length > n) out.push(`… ${object.length - n} more`);
      return out;
    }
    if (object instanceof Error) {
      return { name: object.name, message: redactString(object.message, limits.maxFieldLength) };
    }
    // No prototype: a key named `__proto__` in the input stays a plain key.
    const out = Object.create(null) as Record<string, unknown>;
    let count = 0;
    let skipped = 0;
    for (const key of Object.keys(object)) {
      if (count === limits.maxEntries) {
        skipped++;
        continue;
      }
      count++;
      const safeKey = capString(key, 128);
      out[safeKey] = limits.isSensitive(key)
        ? REDACTED
        : redactValue((object as Record<string, unknown>)[key], limits, depth + 1, seen);
    }
    if (skipped > 0) out['…'] = `${skipped} more`;
    return out;
  } catch {
    // A getter that throws, a revoked proxy: keep the record, say what could not be read.
    return '[Unreadable]';
  } finally {
    seen.delete(object);
  }
}
