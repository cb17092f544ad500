import { Registry } from 'prom-client';
import pino from 'pino';

/** A pino logger writing JSON lines into an array, at debug level. */
export function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

/** A metric's value for exactly these labels (0 when the series does not exist). */
export async function valueOf(
  registry: Registry,
  name: string,
  labels: Record<string, string | number> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  const match = values.find(
    (v) =>
      (v as { metricName?: string }).metricName === undefined &&
      Object.keys(labels).length === Object.keys(v.labels).length &&
      Object.entries(labels).every(([k, val]) => String(v.labels[k]) === String(val)),
  );
  return match?.value ?? 0;
}

/** A histogram's observation count for exactly these labels. */
export async function countOf(
  registry: Registry,
  name: string,
  labels: Record<string, string | number>,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  const match = values.find(
    (v) =>
      (v as { metricName?: string }).metricName === `${name}_count` &&
      Object.entries(labels).every(([k, val]) => String(v.labels[k]) === String(val)) &&
      Object.keys(labels).length === Object.keys(v.labels).length,
  );
  return match?.value ?? 0;
}

export const newRegistry = () => new Registry();
