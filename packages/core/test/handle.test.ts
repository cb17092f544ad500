import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handleAll, handleResult, handleType, handleWhen, type CallOutcome } from '@bulwark/core';

class NetworkError extends Error {
  constructor(readonly retryable: boolean) {
    super('network');
  }
}
const error = (e: unknown): CallOutcome<unknown> => ({ kind: 'error', error: e });
const value = (v: unknown): CallOutcome<unknown> => ({ kind: 'value', value: v });

describe('handle… builders (cockatiel-style failure filters)', () => {
  it('handleAll: every error fails, every value succeeds', () => {
    const f = handleAll();
    expect([f(error(new Error('x'))), f(error('a string')), f(value(1))]).toEqual(['failure', 'failure', 'success']);
  });

  it('handleType: instances (passing the predicate) fail; other errors are ignored, values succeed', () => {
    const f = handleType(NetworkError, (e) => e.retryable);
    expect(f(error(new NetworkError(true)))).toBe('failure');
    expect(f(error(new NetworkError(false)))).toBe('ignore');
    expect(f(error(new TypeError('bug')))).toBe('ignore');
    expect(f(value(new NetworkError(true)))).toBe('success'); // a value is never an error
  });

  it('handleResult with orWhen: a 503 value and matching errors fail', () => {
    const f = handleResult<{ status: number }>((r) => r.status >= 500).orWhen((e) => (e as Error).message === 'reset');
    expect(f(value({ status: 503 }))).toBe('failure');
    expect(f(value({ status: 200 }))).toBe('success');
    expect(f(error(new Error('reset')))).toBe('failure');
    expect(f(error(new Error('other')))).toBe('ignore');
  });

  it('chains are immutable: orType returns a new filter and leaves the first one as it was', () => {
    const base = handleWhen((e) => e === 'a');
    const wider = base.orType(RangeError);
    expect(base(error(new RangeError('r')))).toBe('ignore');
    expect(wider(error(new RangeError('r')))).toBe('failure');
    expect(wider(error('a'))).toBe('failure');
  });

  it('a chain fails an outcome exactly when one of its tests does (property, against a plain model)', () => {
    // Tests are "error equals n" or "value equals n"; the model checks them one by one.
    const test = fc.record({
      kind: fc.constantFrom('error' as const, 'value' as const),
      n: fc.integer({ min: 0, max: 4 }),
    });
    fc.assert(
      fc.property(
        fc.array(test, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('error', 'value'),
        fc.integer({ min: 0, max: 4 }),
        (tests, kind, n) => {
          const [first, ...rest] = tests;
          const start =
            first!.kind === 'error' ? handleWhen((e) => e === first!.n) : handleResult((v) => v === first!.n);
          const f = rest.reduce(
            (acc, t) => (t.kind === 'error' ? acc.orWhen((e) => e === t.n) : acc.orResult((v) => v === t.n)),
            start,
          );
          const outcome = kind === 'error' ? error(n) : value(n);
          const fails = tests.some((t) => t.kind === kind && t.n === n);
          expect(f(outcome)).toBe(fails ? 'failure' : kind === 'value' ? 'success' : 'ignore');
        },
      ),
    );
  });
});
