import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion } from '../src/index.js';

const numberVersion = fc.array(fc.nat(30), { minLength: 1, maxLength: 3 });
const sign = (n: number) => Math.sign(n);
// Reference: compare the numeric parts, missing parts as 0.
const reference = (a: number[], b: number[]) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};

describe('versions', () => {
  it('orders number versions numerically, never as text (9 < 10)', () => {
    expect(compareVersions(parseVersion('9')!, parseVersion('10')!)).toBeLessThan(0);
    expect(compareVersions(parseVersion('1.10')!, parseVersion('1.9')!)).toBeGreaterThan(0);
    fc.assert(
      fc.property(numberVersion, numberVersion, fc.boolean(), (a, b, v) => {
        const pa = parseVersion(`${v ? 'v' : ''}${a.join('.')}`)!;
        const pb = parseVersion(b.join('.'))!;
        expect(sign(compareVersions(pa, pb))).toBe(sign(reference(a, b)));
        expect(pa.key === pb.key).toBe(reference(a, b) === 0);
      }),
    );
  });

  it('is a total order: antisymmetric and transitive', () => {
    fc.assert(
      fc.property(numberVersion, numberVersion, numberVersion, (a, b, c) => {
        const [pa, pb, pc] = [a, b, c].map((x) => parseVersion(x.join('.'))!);
        expect(sign(compareVersions(pa!, pb!)) + sign(compareVersions(pb!, pa!))).toBe(0);
        if (compareVersions(pa!, pb!) <= 0 && compareVersions(pb!, pc!) <= 0) {
          expect(compareVersions(pa!, pc!)).toBeLessThanOrEqual(0);
        }
      }),
    );
  });

  it('orders date versions by date, Stripe names aside', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
        fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
        (a, b) => {
          const day = (d: Date) => d.toISOString().slice(0, 10);
          const pa = parseVersion(`${day(a)}.acacia`)!;
          const pb = parseVersion(day(b))!;
          expect(sign(compareVersions(pa, pb))).toBe(sign(day(a).localeCompare(day(b))));
        },
      ),
    );
  });

  it('refuses what is neither', () => {
    for (const bad of ['', 'latest', '1.2.3.4', '2024-02-30', '2024-13-01', 'v', '1.x', '-1']) {
      expect(parseVersion(bad)).toBeUndefined();
    }
    expect(parseVersion(' v2.0 ')?.key).toBe('2');
  });
});
