import type { Registry } from 'prom-client';

/** One exported sample, in the shape prom-client's registry formats. */
interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** What a registry needs of a metric: prom-client's own metric objects have the same members. */
interface CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: 'sum' }>;
  reset(): void;
}

interface Series {
  readonly policy: string;
  readonly name: string;
  readonly outcome: string;
  calls: number;
}

interface DurationSeries {
  readonly policy: string;
  readonly name: string;
  /** Per-bucket (not cumulative) counts; the last slot is +Inf. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
  readonly outcomes: Map<string, Series>;
}

/**
 * `bulwark_policy_calls_total` and `bulwark_policy_duration_seconds`, kept in plain numbers and turned into
 * Prometheus samples only when scraped. These two see every call of every policy: a prom-client update (labels
 * validated and hashed per call) cost ~1.5 µs there, several times the breaker it measured.
 */
export class PolicyCallMetrics {
  readonly calls: CollectedMetric;
  readonly duration: CollectedMetric;
  readonly #bounds: readonly number[];
  /** policy → name → series. */
  #byPolicy = new Map<string, Map<string, DurationSeries>>();

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.calls = {
      name: 'bulwark_policy_calls_total',
      help: 'Calls through a Bulwark policy, by outcome (success, error, rejected, timeout).',
      type: 'counter',
      aggregator: 'sum',
      get: () => Promise.resolve(this.#exportCalls()),
      reset: () => (this.#byPolicy = new Map()),
    };
    this.duration = {
      name: 'bulwark_policy_duration_seconds',
      help: 'Time spent in a Bulwark policy per call, including what it wraps.',
      type: 'histogram',
      aggregator: 'sum',
      get: () => Promise.resolve(this.#exportDurations()),
      reset: () => (this.#byPolicy = new Map()),
    };
  }

  /** Registers both metrics in a registry (or finds the ones a previous instrumentation registered there). */
  static in(registry: Registry, bounds: readonly number[]): PolicyCallMetrics {
    const existing = registry.getSingleMetric('bulwark_policy_calls_total') as unknown as { owner?: PolicyCallMetrics } | undefined;
    if (existing?.owner !== undefined) return existing.owner;
    const m = new PolicyCallMetrics(bounds);
    Object.assign(m.calls, { owner: m });
    registry.registerMetric(m.calls as never);
    registry.registerMetric(m.duration as never);
    return m;
  }

  /** Counts one call. */
  record(policy: string, name: string, outcome: string, seconds: number): void {
    // Nested maps keyed by the event's own strings: their hashes are cached, nothing is concatenated per call.
    let names = this.#byPolicy.get(policy);
    if (names === undefined) this.#byPolicy.set(policy, (names = new Map<string, DurationSeries>()));
    let d = names.get(name);
    if (d === undefined) {
      d = { policy, name, buckets: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0, outcomes: new Map() };
      names.set(name, d);
    }
    let s = d.outcomes.get(outcome);
    if (s === undefined) d.outcomes.set(outcome, (s = { policy, name, outcome, calls: 0 }));
    s.calls++;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    d.buckets[i]!++;
    d.sum += seconds;
    d.count++;
  }

  *#all(): Iterable<DurationSeries> {
    for (const names of this.#byPolicy.values()) yield* names.values();
  }

  #exportCalls() {
    const values: Sample[] = [];
    for (const d of this.#all()) {
      for (const s of d.outcomes.values()) values.push({ labels: { policy: s.policy, name: s.name, outcome: s.outcome }, value: s.calls });
    }
    return { name: this.calls.name, help: this.calls.help, type: 'counter', values, aggregator: 'sum' as const };
  }

  #exportDurations() {
    const name = this.duration.name;
    const values: Sample[] = [];
    for (const d of this.#all()) {
      const labels = { policy: d.policy, name: d.name };
      let cumulative = 0;
      for (let i = 0; i <= this.#bounds.length; i++) {
        cumulative += d.buckets[i]!;
        const le = i < this.#bounds.length ? this.#bounds[i]! : '+Inf';
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${name}_bucket` });
      }
      values.push({ labels, value: d.sum, metricName: `${name}_sum` });
      values.push({ labels, value: d.count, metricName: `${name}_count` });
    }
    return { name, help: this.duration.help, type: 'histogram', values, aggregator: 'sum' as const };
  }
}
