import type { Registry } from 'prom-client';
import { methodsSchema } from '@bulwark/core/internal';

/**
 * A prom-client `Registry`, checked by shape (the ESM and CJS builds of this package may share one registry, and a
 * second prom-client copy makes another class). The one check every telemetry option uses.
 */
export const registrySchema = methodsSchema<Registry>(
  ['metrics', 'getSingleMetric'],
  'expected a prom-client Registry',
);
