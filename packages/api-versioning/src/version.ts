/**
 * A version as this package orders it: numbers (`1`, `1.2`, `v2`) or dates (`2024-09-30`, Stripe's
 * `2024-09-30.acacia`), compared part by part as numbers, never as text (`'10' < '9'` as text).
 */
export interface ParsedVersion {
  /** As written in the configuration or the request. */
  readonly text: string;
  readonly kind: 'number' | 'date';
  /** Numeric parts: `[1, 2]` for `1.2`, `[2024, 9, 30]` for a date. */
  readonly parts: readonly number[];
  /** What two versions that mean the same share: `2` for `v2`, `2.0` and `2`; `2024-09-30` for any named date. */
  readonly key: string;
}

const numberPattern = /^[vV]?(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?$/;
const datePattern = /^(\d{4})-(\d{2})-(\d{2})(?:\.[A-Za-z0-9_-]+)?$/;

/**
 * Parses a version, or answers `undefined` for text that is neither form.
 *
 * @example
 * ```ts
 * parseVersion('v2.0')?.key; // '2'
 * parseVersion('2024-09-30.acacia')?.parts; // [2024, 9, 30]
 * ```
 */
export function parseVersion(input: string): ParsedVersion | undefined {
  const text = input.trim();
  const n = numberPattern.exec(text);
  if (n) {
    const parts = [n[1], n[2], n[3]].filter((p): p is string => p !== undefined).map(Number);
    const significant = [...parts];
    while (significant.length > 1 && significant.at(-1) === 0) significant.pop();
    return { text, kind: 'number', parts, key: significant.join('.') };
  }
  const d = datePattern.exec(text);
  if (d) {
    const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
    const date = new Date(Date.UTC(y, m - 1, day));
    if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== day) return undefined;
    return { text, kind: 'date', parts: [y, m, day], key: `${d[1]}-${d[2]}-${d[3]}` };
  }
  return undefined;
}

/**
 * Orders two versions of the same kind: negative when `a` is older. Missing parts count as 0 (`2` = `2.0`).
 *
 * @example
 * ```ts
 * compareVersions(parseVersion('9')!, parseVersion('10')!); // < 0
 * ```
 */
export function compareVersions(a: ParsedVersion, b: ParsedVersion): number {
  const length = Math.max(a.parts.length, b.parts.length);
  for (let i = 0; i < length; i++) {
    const d = (a.parts[i] ?? 0) - (b.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
