/**
 * A seeded pseudo-random source in [0, 1) (mulberry32): the same seed gives the same sequence, so a run with
 * injected faults can be replayed exactly.
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * const flaky = faults({ rate: 0.1, random });
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A source that injects exactly where a list says (a fast-check schedule, say): the n-th decision is `decisions[n]`,
 * and every decision past the end is "no".
 *
 * @example
 * ```ts
 * fc.property(fc.array(fc.boolean()), (plan) => { const policy = faults({ rate: 1, random: scripted(plan) }); ... });
 * ```
 */
export function scripted(decisions: readonly boolean[]): () => number {
  let n = 0;
  // Below any rate > 0 when injecting, at or above any rate <= 1 when not.
  return () => (decisions[n++] === true ? 0 : 1);
}
