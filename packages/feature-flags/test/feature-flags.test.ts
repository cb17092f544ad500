import { isBulwarkConfigError, type BulwarkConfigError } from '@bulwark/core';
import { VirtualClock } from '@bulwark/core/testing';
import { describe, expect, it } from 'vitest';
import { featureFlags, type ConstraintOperator, type FlagDocumentInput } from '../src/index.js';

const flagsOf = (doc: FlagDocumentInput, extra: Record<string, unknown> = {}) =>
  featureFlags({ flags: doc, env: false, ...extra });

function configError(fn: () => unknown): BulwarkConfigError {
  try {
    fn();
  } catch (error) {
    if (isBulwarkConfigError(error)) return error;
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('evaluation', () => {
  it('a boolean flag needs only enabled: on by default, off by kill switch', () => {
    const flags = flagsOf({ flags: { a: {}, b: { enabled: false } } });
    expect(flags.evaluate('a')).toMatchObject({ value: true, variant: 'on', enabled: true, reason: 'STATIC' });
    expect(flags.evaluate('b')).toMatchObject({ value: false, variant: 'off', enabled: false, reason: 'DISABLED' });
    expect(flags.isEnabled('a')).toBe(true);
    expect(flags.isEnabled('b')).toBe(false);
  });

  it('answers the default with FLAG_NOT_FOUND for an unknown flag, and never throws', () => {
    const flags = flagsOf({ flags: {} });
    expect(flags.evaluate('nope', {}, 'dflt')).toMatchObject({
      value: 'dflt',
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
      enabled: false,
    });
    expect(flags.isEnabled('nope')).toBe(false);
    expect(flags.getString('nope', 'x')).toBe('x');
  });

  it('answers the default with INVALID_CONTEXT when reading the context throws', () => {
    const flags = flagsOf({
      flags: { a: { rules: [{ constraints: [{ attribute: 'plan', operator: 'in', values: ['pro'] }] }] } },
    });
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );
    expect(flags.evaluate('a', hostile, false)).toMatchObject({
      value: false,
      reason: 'ERROR',
      errorCode: 'INVALID_CONTEXT',
    });
    expect(flags.evaluate('a', null as never).reason).toBe('DEFAULT');
    expect(flags.evaluate('a', 'text' as never).reason).toBe('DEFAULT');
  });

  it('serves typed values and the default on a type mismatch', () => {
    const flags = flagsOf({
      flags: {
        color: { variants: { red: '#d00', blue: '#00d' }, defaultVariant: 'blue', offVariant: 'red' },
        limit: { variants: { low: 10, high: 100 }, defaultVariant: 'high' },
        layout: { variants: { grid: { columns: 3 } }, defaultVariant: 'grid' },
      },
    });
    expect(flags.getString('color', 'grey')).toBe('#00d');
    expect(flags.getNumber('limit', 1)).toBe(100);
    expect(flags.getObject('layout', { columns: 1 })).toEqual({ columns: 3 });
    expect(flags.getBoolean('color', false)).toBe(false);
    expect(flags.getNumber('color', 7)).toBe(7);
    expect(flags.getVariant('color')).toEqual({ name: 'blue', value: '#00d', enabled: true });
  });

  it('without an offVariant, off answers the caller default', () => {
    const flags = flagsOf({
      flags: { color: { enabled: false, variants: { red: '#d00' }, defaultVariant: 'red' } },
    });
    expect(flags.evaluate('color', {}, 'grey')).toMatchObject({
      value: 'grey',
      variant: undefined,
      reason: 'DISABLED',
    });
    expect(flags.getVariant('color')).toEqual({ name: undefined, value: undefined, enabled: false });
  });

  it('applies deny before allow, allow before rules, and reports which', () => {
    const flags = flagsOf({
      flags: {
        a: { allow: ['vip', 'both'], deny: ['banned', 'both'], rules: [{ targetingKeys: ['someone'] }] },
      },
    });
    expect(flags.evaluate('a', { targetingKey: 'vip' })).toMatchObject({ enabled: true, ruleId: 'allow' });
    expect(flags.evaluate('a', { targetingKey: 'both' })).toMatchObject({ enabled: false, ruleId: 'deny' });
    expect(flags.evaluate('a', { targetingKey: 'someone' })).toMatchObject({ enabled: true, ruleId: 'rule-0' });
    expect(flags.evaluate('a', { targetingKey: 'other' })).toMatchObject({ enabled: false, reason: 'DEFAULT' });
  });

  it('checks prerequisites, including a required variant', () => {
    const flags = flagsOf({
      flags: {
        parent: {
          variants: { v1: 1, v2: 2 },
          defaultVariant: 'v1',
          offVariant: 'v2',
          rules: [{ targetingKeys: ['a', 'b'] }],
        },
        onParent: { prerequisites: [{ flag: 'parent' }] },
        onV2: { prerequisites: [{ flag: 'parent', enabled: false }] },
      },
    });
    expect(flags.isEnabled('onParent', { targetingKey: 'a' })).toBe(true);
    expect(flags.evaluate('onParent', { targetingKey: 'z' })).toMatchObject({
      enabled: false,
      reason: 'PREREQUISITE_FAILED',
    });
    expect(flags.isEnabled('onV2', { targetingKey: 'z' })).toBe(true);
    expect(flags.isEnabled('onV2', { targetingKey: 'a' })).toBe(false);
  });

  it('splits by weight, sticky per key, with overrides first', () => {
    const flags = flagsOf({
      flags: {
        exp: {
          variants: { a: 'A', b: 'B' },
          defaultVariant: {
            split: [
              { variant: 'a', weight: 30 },
              { variant: 'b', weight: 70 },
            ],
            overrides: [{ attribute: 'email', values: ['qa@example.com'], variant: 'a' }],
          },
        },
      },
    });
    let a = 0;
    for (let i = 0; i < 10_000; i++) {
      const r = flags.evaluate('exp', { targetingKey: `u${i}` });
      expect(r.reason).toBe('SPLIT');
      expect(flags.evaluate('exp', { targetingKey: `u${i}` }).variant).toBe(r.variant);
      if (r.variant === 'a') a++;
    }
    expect(a).toBeGreaterThan(2_800);
    expect(a).toBeLessThan(3_200);
    expect(flags.evaluate('exp', { targetingKey: 'u1', email: 'qa@example.com' })).toMatchObject({
      variant: 'a',
      reason: 'TARGETING_MATCH',
    });
  });

  it('uses random stickiness only when no attribute is present', () => {
    let calls = 0;
    const flags = flagsOf(
      { flags: { f: { rules: [{ rollout: { percentage: 50, stickiness: ['userId', 'random'] } }] } } },
      { random: () => (calls++ % 2 === 0 ? 0.1 : 0.9) },
    );
    expect(flags.isEnabled('f', {})).toBe(true);
    expect(flags.isEnabled('f', {})).toBe(false);
    flags.isEnabled('f', { userId: 'u1' });
    expect(calls).toBe(2);
  });

  it('evaluates every operator family', () => {
    const now = () => Date.parse('2026-06-01T00:00:00Z');
    const rule = (attribute: string, operator: ConstraintOperator, operand: Record<string, unknown>) => ({
      rules: [{ constraints: [{ attribute, operator, ...operand }] }],
    });
    const flags = flagsOf(
      {
        flags: {
          ends: rule('email', 'str_ends_with', { values: ['@EXAMPLE.com'], caseInsensitive: true }),
          num: rule('age', 'num_gte', { value: 18 }),
          after: rule('currentTime', 'date_after', { value: '2026-01-01T00:00:00Z' }),
          ver: rule('appVersion', 'semver_gte', { value: '2.1.0' }),
          re: rule('path', 'regex', { value: '^/api/v[0-9]+/' }),
          cidr: rule('ip', 'in_cidr', { values: ['10.0.0.0/8', '2001:db8::/32', '192.168.1.7'] }),
          notin: rule('country', 'not_in', { values: ['NL'], inverted: true }),
        },
      },
      { now },
    );
    expect(flags.isEnabled('ends', { email: 'a@example.COM' })).toBe(true);
    expect(flags.isEnabled('num', { age: '18' })).toBe(true);
    expect(flags.isEnabled('num', { age: 17 })).toBe(false);
    expect(flags.isEnabled('num', { age: 'old' })).toBe(false);
    expect(flags.isEnabled('after')).toBe(true);
    expect(flags.isEnabled('after', { currentTime: new Date('2025-12-31T00:00:00Z') })).toBe(false);
    expect(flags.isEnabled('ver', { appVersion: '2.10.0' })).toBe(true);
    expect(flags.isEnabled('ver', { appVersion: '2.1.0-beta.1' })).toBe(false);
    expect(flags.isEnabled('ver', { appVersion: 'v3.0.0' })).toBe(false);
    expect(flags.isEnabled('re', { path: '/api/v2/users' })).toBe(true);
    expect(flags.isEnabled('cidr', { ip: '10.1.2.3' })).toBe(true);
    expect(flags.isEnabled('cidr', { ip: '2001:db8::1' })).toBe(true);
    expect(flags.isEnabled('cidr', { ip: '192.168.1.7' })).toBe(true);
    expect(flags.isEnabled('cidr', { ip: '192.168.1.8' })).toBe(false);
    expect(flags.isEnabled('cidr', { ip: 'not-an-ip' })).toBe(false);
    expect(flags.isEnabled('notin', { country: 'NL' })).toBe(true);
    expect(flags.isEnabled('notin', { country: 'BE' })).toBe(false);
  });

  it('compares dates with the wall clock by default (not the monotonic timer clock)', () => {
    const flags = flagsOf({
      flags: {
        past: { rules: [{ constraints: [{ attribute: 'currentTime', operator: 'date_after', value: '2020-01-01' }] }] },
        future: {
          rules: [{ constraints: [{ attribute: 'currentTime', operator: 'date_before', value: '2999-01-01' }] }],
        },
      },
    });
    expect(flags.isEnabled('past')).toBe(true);
    expect(flags.isEnabled('future')).toBe(true);
  });

  it('runs a regex that backtracks catastrophically elsewhere in linear time', () => {
    const flags = flagsOf({
      flags: { re: { rules: [{ constraints: [{ attribute: 's', operator: 'regex', value: '^(a+)+$' }] }] } },
    });
    const hostile = `${'a'.repeat(50_000)}!`;
    const started = process.hrtime.bigint();
    expect(flags.isEnabled('re', { s: hostile })).toBe(false);
    // Backtracking takes 2^n steps here (years); RE2 is linear. A generous bound that cannot flake.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(5_000);
  });

  it('matches hostNames against the machine name', () => {
    const doc = { flags: { f: { rules: [{ hostNames: ['Web-1', 'web-2'] }] } } };
    expect(flagsOf(doc, { hostname: 'web-1' }).isEnabled('f')).toBe(true);
    expect(flagsOf(doc, { hostname: 'db-1' }).isEnabled('f')).toBe(false);
  });

  it('shares segments across flags', () => {
    const flags = flagsOf({
      segments: { beta: { constraints: [{ attribute: 'plan', operator: 'in', values: ['beta'] }] } },
      flags: { a: { rules: [{ segments: ['beta'] }] }, b: { rules: [{ segments: ['beta'], variant: 'off' }] } },
    });
    expect(flags.isEnabled('a', { plan: 'beta' })).toBe(true);
    expect(flags.evaluate('b', { plan: 'beta' })).toMatchObject({ enabled: true, value: false, variant: 'off' });
    expect(flags.isEnabled('a', { plan: 'free' })).toBe(false);
  });

  it('returns flag metadata', () => {
    const flags = flagsOf({ flags: { a: { metadata: { owner: 'payments', ticket: 42 } } } });
    expect(flags.evaluate('a').flagMetadata).toEqual({ owner: 'payments', ticket: 42 });
  });
});

describe('environment overrides', () => {
  const doc: FlagDocumentInput = {
    flags: {
      'new-checkout': { rules: [{ targetingKeys: ['a'] }] },
      color: { variants: { red: 'r', blue: 'b' }, defaultVariant: 'red' },
    },
  };
  it('turns flags on, off, to a variant, and defines new boolean flags', () => {
    const errors: string[] = [];
    const flags = featureFlags({
      flags: doc,
      env: {
        BULWARK_FLAG_NEW_CHECKOUT: 'on',
        BULWARK_FLAG_COLOR: 'blue',
        BULWARK_FLAG_DARK_MODE: 'true',
        BULWARK_FLAG_BAD: 'maybe',
        OTHER: 'x',
      },
    });
    flags.onError((e) => errors.push(e.error.message));
    expect(flags.isEnabled('new-checkout', { targetingKey: 'z' })).toBe(true);
    expect(flags.getString('color', '')).toBe('b');
    expect(flags.isEnabled('dark_mode')).toBe(true);
    expect(flags.evaluate('bad').errorCode).toBe('FLAG_NOT_FOUND');
    const off = featureFlags({ flags: doc, env: { BULWARK_FLAG_NEW_CHECKOUT: 'off' } });
    expect(off.evaluate('new-checkout', { targetingKey: 'a' })).toMatchObject({ enabled: false, reason: 'DISABLED' });
  });
});

describe('configuration errors', () => {
  it('names the field for a bad document', () => {
    const e = configError(() =>
      flagsOf({ flags: { a: { rules: [{ constraints: [{ attribute: 'x', operator: 'num_gt', value: 'ten' }] }] } } }),
    );
    expect(e.field).toBe('flags.a.rules.0.constraints.0.value');
    expect(e.message).toContain('not a number: ten');
  });

  it.each([
    [{ flags: { a: { rules: [{ segments: ['nope'] }] } } }, 'flags.a.rules.0.segments.0', 'no segment nope'],
    [
      { flags: { a: { prerequisites: [{ flag: 'b' }] }, b: { prerequisites: [{ flag: 'a' }] } } },
      'flags.a.prerequisites',
      'cycle',
    ],
    [{ flags: { a: { prerequisites: [{ flag: 'zz' }] } } }, 'flags.a.prerequisites.0.flag', 'no flag zz'],
    [{ flags: { a: { variants: { x: 1 } } } }, 'flags.a.defaultVariant', 'needed'],
    [{ flags: { a: { defaultVariant: 'blue' } } }, 'flags.a.defaultVariant', 'not one of on, off'],
    [
      { flags: { a: { rules: [{ constraints: [{ attribute: 's', operator: 'regex', value: '(a)\\1' }] }] } } },
      'flags.a.rules.0.constraints.0.value',
      'RE2',
    ],
    [
      { flags: { a: { rules: [{ constraints: [{ attribute: 's', operator: 'in' }] }] } } },
      'flags.a.rules.0.constraints.0.values',
      'needs values',
    ],
    [{ flags: { a: { rules: [{ rollout: { percentage: 101 } }] } } }, 'flags.a.rules.0.rollout.percentage', ''],
    [{ flags: { a: { enabeld: true } } }, 'flags.a.enabeld', 'unknown option'],
  ])('refuses %j', (doc, field, message) => {
    const e = configError(() => flagsOf(doc as FlagDocumentInput));
    expect(e.issues.map((i) => i.field)).toContain(field);
    expect(e.message).toContain(message);
  });

  it('refuses options without flags or source', () => {
    expect(configError(() => featureFlags({})).message).toContain('give flags');
  });
});

describe('set, remove, replace', () => {
  it('validates, applies atomically, and reports what changed', async () => {
    const flags = flagsOf({ flags: { a: {}, b: { prerequisites: [{ flag: 'a' }] } } });
    const changes: string[][] = [];
    flags.onChange((e) => changes.push([...e.flags]));
    await flags.set('c', { enabled: false });
    expect(flags.isEnabled('c')).toBe(false);
    await expect(flags.set('d', { rules: [{ segments: ['missing'] }] })).rejects.toThrow(/no segment missing/);
    expect(flags.get('d')).toBeUndefined();
    await expect(flags.remove('a')).rejects.toThrow(/no flag a/);
    expect(flags.isEnabled('b')).toBe(true);
    await flags.remove('b');
    await flags.remove('a');
    expect(Object.keys(flags.list())).toEqual(['c']);
    expect(changes).toEqual([['c'], ['b'], ['a']]);
    expect(flags.document()).toEqual({ flags: { c: { enabled: false } } });
  });

  it('refuses to write to a read-only source and changes nothing', async () => {
    const flags = featureFlags({ source: { load: async () => ({ flags: { a: {} } }) }, env: false });
    await flags.ready();
    await expect(flags.set('a', { enabled: false })).rejects.toMatchObject({ code: 'BULWARK_FLAG_READ_ONLY' });
    expect(flags.isEnabled('a')).toBe(true);
  });

  it('keeps the old document when the source write fails', async () => {
    const flags = featureFlags({
      source: {
        load: async () => ({ flags: { a: {} } }),
        save: async () => {
          throw new Error('disk full');
        },
      },
      env: false,
    });
    await flags.ready();
    await expect(flags.set('a', { enabled: false })).rejects.toThrow('disk full');
    expect(flags.isEnabled('a')).toBe(true);
  });
});

describe('readiness', () => {
  it('answers PROVIDER_NOT_READY until the first load, retrying failures on its clock', async () => {
    const clock = new VirtualClock();
    let attempts = 0;
    const errors: string[] = [];
    const flags = featureFlags({
      clock,
      env: false,
      source: {
        load: async () => {
          attempts++;
          if (attempts < 3) throw new Error(`down ${attempts}`);
          return { flags: { a: {} } };
        },
      },
    });
    flags.onError((e) => errors.push(e.error.message));
    expect(flags.evaluate('a', {}, false)).toMatchObject({ value: false, errorCode: 'PROVIDER_NOT_READY' });
    let ready = false;
    void flags.ready().then(() => (ready = true));
    await clock.advance(1000);
    expect(ready).toBe(false);
    await clock.advance(2000);
    expect(ready).toBe(true);
    expect(errors).toEqual(['down 1', 'down 2']);
    expect(flags.isEnabled('a')).toBe(true);
    await flags.close();
  });

  it('serves an inline document until the source loads', async () => {
    let release!: (doc: unknown) => void;
    const flags = featureFlags({
      env: false,
      flags: { flags: { a: { enabled: false } } },
      source: { load: () => new Promise((r) => (release = r)) },
    });
    expect(flags.isEnabled('a')).toBe(false);
    expect(flags.isReady).toBe(false);
    release({ flags: { a: {} } });
    await flags.ready();
    expect(flags.isEnabled('a')).toBe(true);
  });
});
