import { readFileSync } from 'node:fs';
import type { Metric } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { circuitBreaker } from '@bulwark/circuit-breaker';
import { instrument, requestMetricsGuard, type Instrumentation } from '@bulwark/telemetry';
import { newRegistry } from './helpers.js';

// The dashboard shipped in the package (grafana/bulwark-dashboard.json), checked against the metrics instrument()
// and requestMetrics() really register: a renamed metric or label must not leave a panel silently empty.

interface Panel {
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(new URL('../grafana/bulwark-dashboard.json', import.meta.url), 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string }[] };
};
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** Labels Prometheus adds to every series (the target's), and the histogram bucket bound. */
const targetLabels = new Set(['job', 'instance', 'le']);
const histogramSeries = /_(bucket|sum|count)$/;

/** Metric names and the label names used with them, read from one PromQL expression. */
function parse(expr: string): { metrics: string[]; labels: string[] } {
  const metrics = [...expr.matchAll(/\b((?:bulwark|http_server)_[a-z_]+)/g)].map((m) => m[1]!);
  const selectors = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
    [...m[1]!.matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!),
  );
  const grouped = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!.split(',').map((l) => l.trim()),
  );
  return { metrics, labels: [...selectors, ...grouped].filter((l) => l !== '' && !targetLabels.has(l)) };
}

let telemetry: Instrumentation | undefined;
afterEach(() => {
  telemetry?.dispose();
  telemetry = undefined;
});

/** Every metric Bulwark registers, with its label names (from one real call where prom-client cannot tell). */
async function registered(): Promise<Map<string, Set<string>>> {
  const registry = newRegistry();
  telemetry = instrument({ registry });
  requestMetricsGuard({ registry });
  await circuitBreaker({ name: 'db' }).execute(() => 1); // the policy-call metrics are collected, not prom-client's
  const out = new Map<string, Set<string>>();
  for (const metric of registry.getMetricsAsArray() as unknown as Metric[]) {
    const { name, values } = await metric.get();
    const declared = (metric as { labelNames?: readonly string[] }).labelNames;
    out.set(name, new Set(declared ?? values.flatMap((v) => Object.keys(v.labels)).filter((l) => l !== 'le')));
  }
  return out;
}

describe('the Grafana dashboard', () => {
  it('queries only metrics and labels that exist', async () => {
    const metrics = await registered();
    expect(queries.length).toBeGreaterThan(20);
    for (const { panel, expr } of queries) {
      const used = parse(expr);
      expect(used.metrics.length, `${panel}: no Bulwark metric in ${expr}`).toBeGreaterThan(0);
      for (const series of used.metrics) {
        const name = metrics.has(series) ? series : series.replace(histogramSeries, '');
        expect(metrics.has(name), `${panel}: ${series} is not a Bulwark metric`).toBe(true);
        for (const label of used.labels) {
          expect(metrics.get(name)!.has(label), `${panel}: ${name} has no label ${label}`).toBe(true);
        }
      }
    }
  });

  it('shows every metric Bulwark registers', async () => {
    const shown = new Set(queries.flatMap((q) => parse(q.expr).metrics.map((m) => m.replace(histogramSeries, ''))));
    const missing = [...(await registered()).keys()].filter((name) => !shown.has(name));
    expect(missing).toEqual([]);
  });

  it('is a well-formed dashboard: unique ids, panels inside the 24-column grid, no overlaps', () => {
    expect(dashboard.uid).toBe('bulwark');
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'job']);
    const cells = new Set<string>();
    for (const { title, gridPos: g } of dashboard.panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps another panel`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('reads labels from selectors and groupings (the parser the checks rely on)', () => {
    expect(parse('sum by (name, to) (increase(bulwark_circuit_transitions_total{job=~"$job", x="1"}[5m]))')).toEqual({
      metrics: ['bulwark_circuit_transitions_total'],
      labels: ['x', 'name', 'to'],
    });
  });
});
