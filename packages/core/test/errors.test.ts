import { describe, expect, it, vi } from 'vitest';
import type { BulwarkConfigError } from '@bulwark/core';
import { BulwarkError, isBulwarkConfigError, isBulwarkError, isTimeoutError, TimeoutError } from '@bulwark/core';
import { parseOptions } from '@bulwark/core/internal';
import { z } from 'zod';
import type * as errors from '../src/errors.js';

describe('errors', () => {
  it('carry stable codes, names, causes and retry hints', () => {
    const cause = new Error('socket hang up');
    const e = new BulwarkError('BULWARK_CIRCUIT_OPEN', 'open', { cause, retryAfterMs: 1500 });
    expect(e).toMatchObject({ code: 'BULWARK_CIRCUIT_OPEN', name: 'BulwarkError', cause, retryAfterMs: 1500 });
    const t = new TimeoutError(250);
    expect(t).toMatchObject({ code: 'BULWARK_TIMEOUT', name: 'TimeoutError', timeoutMs: 250 });
    expect(t.message).toBe('Operation timed out after 250 ms');
  });

  it('guards match by brand and code, not by instanceof', () => {
    const t = new TimeoutError(1);
    expect(isBulwarkError(t)).toBe(true);
    expect(isBulwarkError(t, 'BULWARK_TIMEOUT')).toBe(true);
    expect(isBulwarkError(t, 'BULWARK_CIRCUIT_OPEN')).toBe(false);
    expect(isTimeoutError(t)).toBe(true);
    expect(isTimeoutError(new Error('BULWARK_TIMEOUT'))).toBe(false);
    expect(isTimeoutError(Object.assign(new Error(), { code: 'BULWARK_TIMEOUT' }))).toBe(false);
    expect(isBulwarkError(null)).toBe(false);
    expect(isBulwarkError('BULWARK_TIMEOUT')).toBe(false);
  });

  it('guards work across two loaded copies of the package', async () => {
    vi.resetModules();
    // @ts-expect-error -- the query suffix makes vitest load a second, independent copy of the module
    const copy = (await import('../src/errors.js?copy')) as typeof errors;
    const foreign = new copy.TimeoutError(5);
    expect(foreign instanceof TimeoutError).toBe(false);
    expect(isTimeoutError(foreign)).toBe(true);
    expect(copy.isTimeoutError(new TimeoutError(5))).toBe(true);
  });

  it('BulwarkConfigError names every bad field from zod issues', () => {
    const schema = z.object({ limit: z.number().int().positive(), window: z.object({ size: z.number().min(1) }) });
    let caught: unknown;
    try {
      parseOptions(schema, { limit: -1, window: { size: 0 } }, 'thing()');
    } catch (e) {
      caught = e;
    }
    expect(isBulwarkConfigError(caught)).toBe(true);
    const error = caught as BulwarkConfigError;
    expect(error.field).toBe('limit');
    expect(error.issues.map((i) => i.field)).toEqual(['limit', 'window.size']);
    expect(error.message).toMatch(/^thing\(\): invalid options: "limit": .+; "window.size": .+/);
  });

  it('BulwarkConfigError names each unknown option, also in nested objects', () => {
    const schema = z.object({ limit: z.number(), window: z.object({ size: z.number() }).strict() }).strict();
    let caught: BulwarkConfigError | undefined;
    try {
      parseOptions(schema, { limit: 1, colour: 'red', window: { size: 1, sise: 2 } }, 'thing()');
    } catch (e) {
      caught = e as BulwarkConfigError;
    }
    // zod decides the order of issues; what matters is that each unknown key is named.
    expect(caught?.issues).toHaveLength(2);
    expect(caught?.issues).toEqual(
      expect.arrayContaining([
        { field: 'colour', message: 'unknown option' },
        { field: 'window.sise', message: 'unknown option' },
      ]),
    );
    expect(['colour', 'window.sise']).toContain(caught?.field);
  });
});
