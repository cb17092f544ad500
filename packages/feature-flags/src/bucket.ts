import murmurHash3 from 'murmurhash3js';

/** Seed of rollout buckets (Unleash's strategy seed). */
export const rolloutSeed = 0;
/** Seed of variant buckets: not the rollout's, so who is in a rollout and which variant they get are independent. */
export const variantSeed = 86_028_157;

/**
 * The bucket of `value` in `groupId`: murmur3 x86_32 of `groupId:value`, `% normalizer + 1`, so 1..normalizer.
 * Identical to Unleash's Node SDK (which hashes UTF-16 code units masked to a byte: SDKs that hash UTF-8 bytes
 * agree on ASCII values only). A rollout to `p` % admits buckets 1..p, so raising `p` keeps everyone already in.
 *
 * @example
 * ```ts
 * bucket('123', 'gr1'); // 73: in a 73 % rollout of group gr1, out of a 72 % one
 * ```
 */
export function bucket(value: string, groupId: string, normalizer = 100, seed = rolloutSeed): number {
  return (murmurHash3.x86.hash32(`${groupId}:${value}`, seed) % normalizer) + 1;
}
