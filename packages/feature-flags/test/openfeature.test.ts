import { OpenFeature, ProviderEvents, ProviderStatus } from '@openfeature/server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { featureFlags } from '../src/index.js';
import { BulwarkProvider } from '../src/openfeature.js';

afterEach(async () => {
  await OpenFeature.clearProviders();
});

describe('BulwarkProvider through @openfeature/server-sdk', () => {
  it('resolves all four types with variants, reasons and metadata', async () => {
    const flags = featureFlags({
      env: false,
      flags: {
        flags: {
          on: { rules: [{ constraints: [{ attribute: 'plan', operator: 'in', values: ['pro'] }] }] },
          color: { variants: { red: '#d00' }, defaultVariant: 'red', metadata: { owner: 'web' } },
          limit: { variants: { high: 100 }, defaultVariant: 'high' },
          layout: { variants: { grid: { columns: 3 } }, defaultVariant: 'grid' },
        },
      },
    });
    await OpenFeature.setProviderAndWait(new BulwarkProvider(flags));
    const client = OpenFeature.getClient();
    expect(await client.getBooleanDetails('on', false, { targetingKey: 'u', plan: 'pro' })).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
    });
    expect(await client.getBooleanValue('on', true, { plan: 'free' })).toBe(false);
    expect(await client.getStringDetails('color', 'grey')).toMatchObject({
      value: '#d00',
      reason: 'STATIC',
      flagMetadata: { owner: 'web' },
    });
    expect(await client.getNumberValue('limit', 1)).toBe(100);
    expect(await client.getObjectValue('layout', {})).toEqual({ columns: 3 });
  });

  it('reports FLAG_NOT_FOUND and TYPE_MISMATCH as OpenFeature errors with the default', async () => {
    const flags = featureFlags({
      env: false,
      flags: { flags: { color: { variants: { red: '#d00' }, defaultVariant: 'red' } } },
    });
    await OpenFeature.setProviderAndWait(new BulwarkProvider(flags));
    const client = OpenFeature.getClient();
    expect(await client.getBooleanDetails('missing', true)).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(await client.getNumberDetails('color', 7)).toMatchObject({
      value: 7,
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
    });
  });

  it('is ready only after the first load, and announces changes and refused documents', async () => {
    let release!: (doc: unknown) => void;
    const flags = featureFlags({
      env: false,
      source: { load: () => new Promise((r) => (release = r)), save: async () => {} },
    });
    const provider = new BulwarkProvider(flags);
    const setting = OpenFeature.setProviderAndWait(provider);
    await new Promise((r) => setTimeout(r, 10));
    expect(OpenFeature.getClient().providerStatus).toBe(ProviderStatus.NOT_READY);
    release({ flags: { a: {} } });
    await setting;
    expect(OpenFeature.getClient().providerStatus).toBe(ProviderStatus.READY);

    const changed: string[][] = [];
    OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, (e) =>
      changed.push([...((e?.flagsChanged as string[] | undefined) ?? [])]),
    );
    await flags.set('b', { enabled: false });
    await new Promise((r) => setTimeout(r, 0));
    expect(changed).toEqual([['b']]);
    expect(await OpenFeature.getClient().getBooleanValue('b', true)).toBe(false);
  });
});
