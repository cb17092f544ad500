import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureFlags } from '../src/index.js';
import { fromUnleash, toUnleashVariant, unleashContext, type UnleashFeaturesDocument } from '../src/unleash.js';

// The pinned @unleash/client-specification suite (see package.json), run as Unleash's own SDKs run it.
const require = createRequire(import.meta.url);
const specDir = join(dirname(require.resolve('@unleash/client-specification/package.json')), 'specifications');
const index = JSON.parse(readFileSync(join(specDir, 'index.json'), 'utf8')) as string[];

interface SpecFile {
  name: string;
  state: UnleashFeaturesDocument & { events?: unknown };
  tests?: { description: string; context: Record<string, unknown>; toggleName: string; expectedResult: boolean }[];
  variantTests?: {
    description: string;
    context: Record<string, unknown>;
    toggleName: string;
    expectedResult: Record<string, unknown>;
  }[];
}

// Files 19 and 20 exercise Unleash's delta API (a stream of change events), a transport we do not implement.
const deltaApi = new Set(['19-delta-api-hydration.json', '20-delta-api-events.json']);

describe.each(index)('Unleash client specification %s', (file) => {
  const spec = JSON.parse(readFileSync(join(specDir, file), 'utf8')) as SpecFile;
  if (deltaApi.has(file) || !Array.isArray(spec.state.features)) {
    it.skip(`${file}: the delta API (change events), which this importer does not implement`, () => {});
    return;
  }
  const flags = featureFlags({ flags: fromUnleash(spec.state).document, env: false, hostname: 'spec-host' });
  for (const t of spec.tests ?? []) {
    it(`isEnabled: ${t.description}`, () => {
      expect(flags.isEnabled(t.toggleName, unleashContext(t.context))).toBe(t.expectedResult);
    });
  }
  for (const t of spec.variantTests ?? []) {
    it(`getVariant: ${t.description}`, () => {
      const got = toUnleashVariant(flags.evaluate(t.toggleName, unleashContext(t.context)));
      const { featureEnabled: _alias, ...expected } = t.expectedResult;
      expect(got).toEqual(expected);
    });
  }
});
