import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constant, exponential, linear, type Jitter } from '@bulwark/retry';

const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('backoffs', () => {
  it('every jitter stays inside its AWS formula bounds (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Jitter>('none', 'full', 'equal', 'decorrelated'),
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.array(unit, { minLength: 1, maxLength: 20 }),
        (jitter, baseMs, factor, maxMs, randoms) => {
          const b = exponential({ baseMs, factor, maxMs, jitter });
          let previous = 0;
          randoms.forEach((r, i) => {
            const n = i + 1;
            const d = b.delay(n, previous, () => r);
            const v = Math.min(maxMs, baseMs * factor ** (n - 1));
            if (jitter === 'none') expect(d).toBe(v);
            if (jitter === 'full') {
              expect(d).toBeGreaterThanOrEqual(0);
              expect(d).toBeLessThanOrEqual(v);
            }
            if (jitter === 'equal') {
              expect(d).toBeGreaterThanOrEqual(v / 2);
              expect(d).toBeLessThanOrEqual(v);
            }
            if (jitter === 'decorrelated') {
              const from = Math.min(baseMs, maxMs);
              expect(d).toBeGreaterThanOrEqual(from);
              expect(d).toBeLessThanOrEqual(Math.min(maxMs, Math.max(from, (previous || baseMs) * 3)));
            }
            expect(d).toBeLessThanOrEqual(maxMs);
            previous = d;
          });
        },
      ),
    );
  });

  it('constant and linear give their plain formulas', () => {
    expect([1, 2, 3].map((n) => constant(250).delay(n, 0, Math.random))).toEqual([250, 250, 250]);
    const l = linear({ baseMs: 100, stepMs: 200, maxMs: 450 });
    expect([1, 2, 3, 4].map((n) => l.delay(n, 0, Math.random))).toEqual([100, 300, 450, 450]);
    expect(linear({ baseMs: 50 }).delay(3, 0, Math.random)).toBe(150);
  });

  it('rejects bad options naming the field', () => {
    expect(() => constant(-1)).toThrow(expect.objectContaining({ field: 'delayMs' }));
    expect(() => exponential({ factor: 0.5 })).toThrow(expect.objectContaining({ field: 'factor' }));
    expect(() => exponential({ jitter: 'some' as never })).toThrow(expect.objectContaining({ field: 'jitter' }));
    expect(() => linear({} as never)).toThrow(expect.objectContaining({ field: 'baseMs' }));
  });
});
