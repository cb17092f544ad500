import type { OutcomeClass } from '@bulwark/core';
import { LatencyHistogram } from './latency-histogram.js';

/** Latencies of finished calls, in ms; percentiles to within ~4.5 %. */
export interface LatencyStats {
  readonly count: number;
  readonly mean: number;
  readonly max: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
}

/** What a breaker created with `stats: true` counted since it was created or since `resetStats()`. */
export interface CircuitBreakerStats {
  /** Calls that finished and counted as successes. */
  readonly successes: number;
  /** Calls that finished and counted as failures. */
  readonly failures: number;
  /** Calls that finished and counted neither way (the caller's abort, other resilience rejections, `'ignore'`). */
  readonly ignored: number;
  /** Calls the circuit refused. */
  readonly rejections: number;
  /** Latencies of every finished call, whatever it counted as. */
  readonly latencyMs: LatencyStats;
}

/** Counts and a bounded latency histogram, for `circuitBreaker({ stats: true })`. */
export class StatsRecorder {
  readonly #latency = new LatencyHistogram();
  #successes = 0;
  #failures = 0;
  #ignored = 0;
  #rejections = 0;

  record(cls: OutcomeClass, ms: number): void {
    if (cls === 'success') this.#successes++;
    else if (cls === 'failure') this.#failures++;
    else this.#ignored++;
    this.#latency.record(ms);
  }

  rejected(): void {
    this.#rejections++;
  }

  snapshot(): CircuitBreakerStats {
    const h = this.#latency;
    return {
      successes: this.#successes,
      failures: this.#failures,
      ignored: this.#ignored,
      rejections: this.#rejections,
      latencyMs: {
        count: h.count,
        mean: h.mean,
        max: h.max,
        p50: h.quantile(0.5),
        p90: h.quantile(0.9),
        p95: h.quantile(0.95),
        p99: h.quantile(0.99),
        p999: h.quantile(0.999),
      },
    };
  }

  reset(): void {
    this.#latency.reset();
    this.#successes = this.#failures = this.#ignored = this.#rejections = 0;
  }
}
