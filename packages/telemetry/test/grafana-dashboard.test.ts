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

/**
 * The metrics of one PromQL expression, each with the labels used with it: those of its own selector, and those of
 * every `by (…)` / `without (…)` grouping in the expression (which apply to every metric grouped).
 */
function parse(expr: string): { metrics: string[]; labels: Map<string, string[]> } {
  const grouped = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!.split(',').map((l) => l.trim()),
  );
  const labels = new Map<string, string[]>();
  for (const m of expr.matchAll(/\b((?:bulwark|http_server)_[a-z_]+)(?:\{([^}]*)\})?/g)) {
    const own = [...(m[2] ?? '').matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!);
    const all = [...own, ...grouped].filter((l) => l !== '' && !targetLabels.has(l));
    labels.set(m[1]!, [...(labels.get(m[1]!) ?? []), ...all]);
  }
  return { metrics: [...labels.keys()], labels };
}

/** Checks one expression: every metric exists, with every label used with it. */
function check(expr: string, metrics: Map<string, Set<string>>, where: string): void {
  const used = parse(expr);
  expect(used.metrics.length, `${where}: no Bulwark metric in ${expr}`).toBeGreaterThan(0);
  for (const [series, labels] of used.labels) {
    const name = metrics.has(series) ? series : series.replace(histogramSeries, '');
    expect(metrics.has(name), `${where}: ${series} is not a Bulwark metric`).toBe(true);
    for (const label of labels)
      expect(metrics.get(name)!.has(label), `${where}: ${name} has no label ${label}`).toBe(true);
  }
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
    for (const { panel, expr } of queries) check(expr, metrics, panel);
  });

  it('shows every metric Bulwark registers', async () => {
    const shown = new Set(queries.flatMap((q) => parse(q.expr).metrics.map((m) => m.replace(histogramSeries, ''))));
    const missing = [...(await registered()).keys()].filter((name) => !shown.has(name));
    expect(missing).toEqual([]);
  });

  it('and the alert rules of the dashboards guide query only metrics and labels that exist', async () => {
    const guide = readFileSync(new URL('../../../docs/guides/dashboards-and-alerts.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(guide)![1]!;
    // `expr: <one line>` or `expr: |` followed by indented lines.
    const rules = [...yaml.matchAll(/expr: (?:\|\n((?:\s{10,}.*\n)+)|(.*)\n)/g)].map((m) => (m[1] ?? m[2]!).trim());
    expect(rules.length).toBe(7);
    const metrics = await registered();
    for (const expr of rules) check(expr, metrics, 'alert rule');
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
    const { metrics, labels } = parse(
      'sum by (name) (rate(bulwark_a_total{job=~"$job", x="1"}[5m])) / sum by (name) (rate(bulwark_b_total[5m]))',
    );
    expect(metrics).toEqual(['bulwark_a_total', 'bulwark_b_total']);
    expect(labels.get('bulwark_a_total')).toEqual(['x', 'name', 'name']);
    expect(labels.get('bulwark_b_total')).toEqual(['name', 'name']);
  });
});
