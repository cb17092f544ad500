/**
 * Feature-flag evaluation cases: one flag with ten constraints and a 50 % rollout, in its Unleash form for
 * unleash-client and imported from that same form for Bulwark; and a static flag through the OpenFeature server SDK
 * with Bulwark's provider and with the SDK's own InMemoryProvider.
 */
import { featureFlags } from '@bulwark/feature-flags';
import { fromUnleash, unleashContext } from '@bulwark/feature-flags/unleash';
import { BulwarkProvider } from '@bulwark/feature-flags/openfeature';
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { InMemStorageProvider, Unleash } from 'unleash-client';

const constraints = [
  { contextName: 'appName', operator: 'IN', values: ['web', 'api'] },
  { contextName: 'environment', operator: 'IN', values: ['production'] },
  { contextName: 'country', operator: 'IN', values: ['NL', 'BE', 'DE'] },
  { contextName: 'plan', operator: 'NOT_IN', values: ['free'] },
  { contextName: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'] },
  { contextName: 'age', operator: 'NUM_GTE', value: '18' },
  { contextName: 'appVersion', operator: 'SEMVER_GTE', value: '2.0.0' },
  { contextName: 'currentTime', operator: 'DATE_AFTER', value: '2020-01-01T00:00:00.000Z' },
  { contextName: 'tenant', operator: 'STR_STARTS_WITH', values: ['acme'] },
  { contextName: 'remoteAddress', operator: 'IN_CIDR', values: ['10.0.0.0/8'] },
];
const feature = {
  name: 'checkout',
  enabled: true,
  strategies: [
    {
      name: 'flexibleRollout',
      parameters: { rollout: '50', stickiness: 'default', groupId: 'checkout' },
      constraints,
    },
  ],
};
const unleashCtx = {
  userId: 'user-0', // in the 50 % (bucket 25)
  appName: 'web',
  environment: 'production',
  remoteAddress: '10.1.2.3',
  properties: { country: 'NL', plan: 'pro', email: 'a@example.com', age: '30', appVersion: '2.3.1', tenant: 'acme-eu' },
};

function unleashClient(): Unleash {
  return new Unleash({
    url: 'http://127.0.0.1:1/api',
    appName: 'web',
    environment: 'production',
    disableMetrics: true,
    refreshInterval: 0,
    bootstrap: { data: [feature as never] },
    storageProvider: new InMemStorageProvider(),
  });
}

const bulwark = () => featureFlags({ flags: fromUnleash({ features: [feature] }).document, env: false });
const ctx = unleashContext(unleashCtx);

export const cases: Record<string, () => (() => unknown) | Promise<() => unknown>> = {
  'await (floor)': () => async () => 1,
  'bulwark isEnabled, 10 constraints + rollout': () => {
    const flags = bulwark();
    if (!flags.isEnabled('checkout', ctx)) throw new Error('expected on for user-0');
    return () => flags.isEnabled('checkout', ctx);
  },
  'bulwark evaluate, 10 constraints + rollout': () => {
    const flags = bulwark();
    return () => flags.evaluate('checkout', ctx);
  },
  'unleash-client isEnabled, 10 constraints + rollout': async () => {
    const client = unleashClient();
    await new Promise((resolve) => client.once('ready', resolve));
    if (!client.isEnabled('checkout', unleashCtx)) throw new Error('expected on for user-0');
    return () => client.isEnabled('checkout', unleashCtx);
  },
  'openfeature sdk + BulwarkProvider, static flag': async () => {
    const flags = featureFlags({ flags: { flags: { simple: {} } }, env: false });
    await OpenFeature.setProviderAndWait(new BulwarkProvider(flags));
    const client = OpenFeature.getClient();
    return () => client.getBooleanValue('simple', false, { targetingKey: 'user-0' });
  },
  'openfeature sdk + InMemoryProvider, static flag': async () => {
    await OpenFeature.setProviderAndWait(
      new InMemoryProvider({ simple: { variants: { on: true, off: false }, defaultVariant: 'on', disabled: false } }),
    );
    const client = OpenFeature.getClient();
    return () => client.getBooleanValue('simple', false, { targetingKey: 'user-0' });
  },
};
