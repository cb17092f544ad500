import type { Registry } from 'prom-client';

/** One exported sample, in the shape prom-client's registry formats. */
interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** A metric as a registry reads it (prom-client's own metrics have the same members), backed by a collect function. */
class CollectedMetric {
  readonly aggregator = 'sum' as const;
  constructor(
    readonly owner: PolicyCallMetrics,
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    readonly collect: () => Sample[],
  ) {}
  get() {
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, values: this.collect(), aggregator });
  }
  /** `registry.resetMetrics()`: both metrics share their series, so either resets both. */
  reset(): void {
    this.owner.reset();
  }
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
  /** Calls by outcome: success, error, rejected, timeout. */
  readonly slots: (Series | undefined)[];
  /** Any other outcome. */
  readonly outcomes: Map<string, Series>;
}

/**
 * `bulwark_policy_calls_total` and `bulwark_policy_duration_seconds`, kept in plain numbers and turned into
 * Prometheus samples only when scraped. These two see every call of every policy, where a prom-client update (labels
 * validated and hashed per call) costs several times the policy it measures (docs/design-notes.md).
 */
export class PolicyCallMetrics {
  readonly calls: CollectedMetric;
  readonly duration: CollectedMetric;
  readonly #bounds: readonly number[];
  /** policy → name → series. */
  #byPolicy = new Map<string, Map<string, DurationSeries>>();
  /** Policy instance → its series (weak: short-lived policies are not kept alive). */
  #bySource = new WeakMap<object, DurationSeries>();

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.calls = new CollectedMetric(
      this,
      'bulwark_policy_calls_total',
      'Calls through a Bulwark policy, by outcome (success, error, rejected, timeout).',
      'counter',
      () => this.#exportCalls(),
    );
    this.duration = new CollectedMetric(
      this,
      'bulwark_policy_duration_seconds',
      'Time spent in a Bulwark policy per call, including what it wraps.',
      'histogram',
      () => this.#exportDurations(),
    );
  }

  /** Registers both metrics in a registry (or finds the ones a previous instrumentation registered there). */
  static in(registry: Registry, bounds: readonly number[]): PolicyCallMetrics {
    // Checked by shape, not instanceof: the ESM and CJS builds of this package may share one registry.
    const existing = registry.getSingleMetric('bulwark_policy_calls_total') as
      { owner?: Partial<PolicyCallMetrics> } | undefined;
    if (typeof existing?.owner?.record === 'function') return existing.owner as PolicyCallMetrics;
    const m = new PolicyCallMetrics(bounds);
    registry.registerMetric(m.calls as never);
    registry.registerMetric(m.duration as never);
    return m;
  }

  /** Forgets every series. */
  reset(): void {
    this.#byPolicy = new Map();
    this.#bySource = new WeakMap();
  }

  /**
   * Counts one call. `source` (the policy instance) finds its series in one weak, identity-keyed lookup; the
   * policy/name maps are only walked the first time a policy is seen.
   */
  record(source: object, policy: string, name: string, outcome: string, seconds: number): void {
    let d = this.#bySource.get(source);
    if (d === undefined) {
      d = this.#series(policy, name);
      this.#bySource.set(source, d);
    }
    // The four outcomes core publishes get fixed slots; anything else a map entry.
    const slot =
      outcome === 'success' ? 0 : outcome === 'error' ? 1 : outcome === 'rejected' ? 2 : outcome === 'timeout' ? 3 : -1;
    let s = slot === -1 ? d.outcomes.get(outcome) : d.slots[slot];
    if (s === undefined) {
      s = { policy, name, outcome, calls: 0 };
      if (slot === -1) d.outcomes.set(outcome, s);
      else d.slots[slot] = s;
    }
    s.calls++;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    d.buckets[i]!++;
    d.sum += seconds;
    d.count++;
  }

  #series(policy: string, name: string): DurationSeries {
    let names = this.#byPolicy.get(policy);
    if (names === undefined) this.#byPolicy.set(policy, (names = new Map<string, DurationSeries>()));
    let d = names.get(name);
    if (d === undefined) {
      d = {
        policy,
        name,
        buckets: new Float64Array(this.#bounds.length + 1),
        sum: 0,
        count: 0,
        slots: [undefined, undefined, undefined, undefined],
        outcomes: new Map(),
      };
      names.set(name, d);
    }
    return d;
  }

  *#all(): Iterable<DurationSeries> {
    for (const names of this.#byPolicy.values()) yield* names.values();
  }

  #exportCalls(): Sample[] {
    const values: Sample[] = [];
    for (const d of this.#all()) {
      for (const s of [...d.slots, ...d.outcomes.values()])
        if (s !== undefined)
          values.push({ labels: { policy: s.policy, name: s.name, outcome: s.outcome }, value: s.calls });
    }
    return values;
  }

  #exportDurations(): Sample[] {
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
    return values;
  }
}
