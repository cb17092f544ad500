import type { FlagDocument } from './flag-definition.js';
import { flagSchema } from './flag-definition.js';

/** Prefix of the environment variables that override flags: `BULWARK_FLAG_NEW_CHECKOUT=on`. */
export const envPrefix = 'BULWARK_FLAG_';

const on = new Set(['on', 'true', '1', 'yes', 'enabled']);
const off = new Set(['off', 'false', '0', 'no', 'disabled']);

/** `new-checkout` → `NEW_CHECKOUT`: how a flag key is spelled in an environment variable's name. */
export const envName = (key: string): string => key.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/**
 * Applies `BULWARK_FLAG_<NAME>` variables to a validated document. `on` (or true/1/yes) serves the flag's
 * `defaultVariant` to everyone; `off` (false/0/no) disables it; a variant's name serves that variant to everyone.
 * A variable naming no flag defines a boolean flag keyed by the lower-cased name (`BULWARK_FLAG_DARK_MODE=on` →
 * `dark_mode`). Returns the document and what it could not apply.
 *
 * @example
 * ```ts
 * applyEnvOverrides(doc, { BULWARK_FLAG_NEW_CHECKOUT: 'off' }).document.flags['new-checkout'].enabled; // false
 * ```
 */
export function applyEnvOverrides(
  document: FlagDocument,
  env: Readonly<Record<string, string | undefined>>,
): { document: FlagDocument; problems: string[] } {
  const problems: string[] = [];
  const byEnvName = new Map(Object.keys(document.flags).map((key) => [envName(key), key]));
  let flags: FlagDocument['flags'] | undefined;
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(envPrefix) || raw === undefined) continue;
    const suffix = name.slice(envPrefix.length);
    const value = raw.trim();
    flags ??= { ...document.flags };
    const key = byEnvName.get(suffix);
    if (key === undefined) {
      const lower = value.toLowerCase();
      if (!on.has(lower) && !off.has(lower)) {
        problems.push(`${name}=${raw}: a flag defined only here takes on or off`);
        continue;
      }
      flags[suffix.toLowerCase()] = flagSchema.parse({ enabled: on.has(lower) });
      continue;
    }
    const flag = flags[key]!;
    const lower = value.toLowerCase();
    const statically = (variant: string) => ({
      ...flag,
      enabled: true,
      defaultVariant: variant,
      allow: [],
      deny: [],
      prerequisites: [],
      rules: [],
    });
    if (off.has(lower)) flags[key] = { ...flag, enabled: false };
    else if (value in flag.variants) flags[key] = statically(value);
    else if (on.has(lower) && typeof flag.defaultVariant === 'string') flags[key] = statically(flag.defaultVariant);
    else if (on.has(lower) && flag.defaultVariant)
      flags[key] = { ...flag, enabled: true, prerequisites: [], rules: [], allow: [], deny: [] };
    else problems.push(`${name}=${raw}: not on, off, or one of ${Object.keys(flag.variants).join(', ')}`);
  }
  return { document: flags ? { ...document, flags } : document, problems };
}
