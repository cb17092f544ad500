/** A virtual clock moved by hand, synchronously (no timers are involved in memory-store decisions). */
export function manualClock(start = 0): {
  now(): number;
  setTimeout(): never;
  clearTimeout(): void;
  advance(ms: number): void;
} {
  let now = start;
  return {
    now: () => now,
    setTimeout: () => {
      throw new Error('the rate limiter must not arm timers');
    },
    clearTimeout: () => undefined,
    advance: (ms) => {
      now += ms;
    },
  };
}
