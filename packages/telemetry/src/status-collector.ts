import diagnosticsChannel from 'node:diagnostics_channel';
import type { BulkheadOccupancyEvent, LimitChangeEvent } from '@bulwark/bulkhead';
import type { StateChangeEvent } from '@bulwark/circuit-breaker';
import { channelName, type PolicyCallEvent } from '@bulwark/core';
import type { CheckEvent, ShutdownEvent } from '@bulwark/health';
import type { RateLimitDecisionEvent } from '@bulwark/rate-limiter';
import type { StoreErrorEvent } from '@bulwark/rate-limiter/redis';

/** A circuit breaker as the status page reads it (a `circuitBreaker()` is one). */
export interface StatusBreaker {
  readonly name: string | undefined;
  readonly state: string;
  readonly counts: { readonly calls: number; readonly failures: number; readonly slow: number };
  readonly retryAfterMs: number;
}

/** A bulkhead or adaptive limit as the status page reads it (a `bulkhead()` or `adaptiveLimit()` is one). */
export interface StatusBulkhead {
  readonly name: string | undefined;
  readonly active: number;
  readonly queued: number;
  readonly limit: number;
}

/** What the status page asks of a `createHealth()` instance. */
export interface StatusHealth {
  /** Every check's latest result (`health.report('all')`). */
  report(probe: 'all'): StatusHealthReport | Promise<StatusHealthReport>;
}

/** The part of a health report the status page shows. */
export interface StatusHealthReport {
  readonly status: string;
  readonly shuttingDown: boolean;
  readonly results: readonly { readonly name: string; readonly status: string; readonly timedOut: boolean }[];
}

/** One state of the whole service, sent to the page every interval. Rates are per second over the last interval. */
export interface StatusSnapshot {
  /** When it was taken (epoch ms). */
  readonly at: number;
  readonly breakers: readonly {
    name: string;
    state: string;
    calls: number;
    failures: number;
    slow: number;
    retryAfterMs: number;
  }[];
  readonly bulkheads: readonly { name: string; active: number; queued: number; limit: number }[];
  readonly limiters: readonly { name: string; allowed: number; limited: number; storeErrors: number }[];
  readonly policies: readonly StatusPolicyCalls[];
  readonly health:
    { status: string; shuttingDown: boolean; checks: readonly { name: string; status: string }[] } | undefined;
}

/** Something worth a line in the page's feed: a circuit changing state, a store failing, a check changing status. */
export interface StatusFeedEvent {
  readonly at: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly text: string;
}

/** Options of {@link StatusCollector}. */
export interface StatusCollectorOptions {
  readonly breakers: readonly StatusBreaker[];
  readonly bulkheads: readonly StatusBulkhead[];
  readonly health: StatusHealth | undefined;
  readonly intervalMs: number;
  readonly healthIntervalMs: number;
  readonly now: () => number;
}

/** A subscriber: told each snapshot and each feed event, and when the stream should end (shutdown). */
export interface StatusListener {
  snapshot(snapshot: StatusSnapshot): void;
  feed(event: StatusFeedEvent): void;
  end(): void;
}

/** Calls through one policy by outcome: per second in a snapshot, counts while an interval runs. */
export interface StatusPolicyCalls {
  policy: string;
  name: string;
  success: number;
  error: number;
  rejected: number;
  timeout: number;
}
const MAX_SERIES = 200; // policies and limiters tracked: names are configured, but a bug could mint them per request

const nameOf = (name: string | undefined) => name ?? '';

/** A feed line for a store failure: `rate-limit store (rl:) failed on consume: decided open`. */
const storeFailure = (e: StoreErrorEvent, failed: string) =>
  `rate-limit store (${e.prefix}) ${failed} on ${e.operation}: decided ${e.decidedBy}`;

/**
 * Watches Bulwark's `diagnostics_channel` events for the status page, **only while a page is connected**: with no
 * listener it subscribes to nothing, so the channels' publishers (gated on `hasSubscribers`) do no work. Breakers
 * and bulkheads are found from their calls (`bulwark:core:call` carries the policy instance) or given up front.
 */
export class StatusCollector {
  readonly #o: StatusCollectorOptions;
  readonly #listeners = new Set<StatusListener>();
  readonly #breakers = new Map<string, WeakRef<StatusBreaker>>();
  readonly #bulkheads = new Map<string, WeakRef<StatusBulkhead>>();
  readonly #occupancy = new Map<string, { active: number; queued: number; limit: number }>();
  // Counts of the current interval; a series seen once stays listed (at 0 while idle).
  readonly #calls = new Map<string, StatusPolicyCalls>();
  readonly #decisions = new Map<string, { allowed: number; limited: number; storeErrors: number }>();
  readonly #checks = new Map<string, string>();
  // Store failures fed this interval, and how many more came after the first: a store outage fails every decision,
  // and one feed line per failure would flood every open page.
  readonly #storeFailures = new Map<string, { event: StoreErrorEvent; more: number }>();
  #health: StatusSnapshot['health'];
  #healthAt = -Infinity;
  #since: number;
  #last: StatusSnapshot;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #subscriptions: [string, (message: unknown) => void][];

  constructor(options: StatusCollectorOptions) {
    this.#o = options;
    for (const b of options.breakers) this.#breakers.set(nameOf(b.name), new WeakRef(b));
    for (const b of options.bulkheads) this.#bulkheads.set(nameOf(b.name), new WeakRef(b));
    this.#since = options.now();
    this.#last = this.#take(this.#since, 1);
    this.#subscriptions = [
      [channelName('core', 'call'), (m) => this.#call(m as PolicyCallEvent)],
      [channelName('circuit-breaker', 'state-change'), (m) => this.#stateChange(m as StateChangeEvent)],
      [channelName('bulkhead', 'occupancy'), (m) => this.#occupied(m as BulkheadOccupancyEvent)],
      [channelName('bulkhead', 'limit'), (m) => this.#limitChange(m as LimitChangeEvent)],
      [channelName('rate-limiter', 'decision'), (m) => this.#decision(m as RateLimitDecisionEvent)],
      [channelName('rate-limiter', 'store-error'), (m) => this.#storeError(m as StoreErrorEvent)],
      [channelName('health', 'check'), (m) => this.#check(m as CheckEvent)],
      [channelName('health', 'shutdown'), (m) => this.#shutdown(m as ShutdownEvent)],
    ];
  }

  /** Listeners connected now. */
  get listeners(): number {
    return this.#listeners.size;
  }

  /** The last snapshot taken (rates of the last full interval; zero before any). */
  get snapshot(): StatusSnapshot {
    return this.#last;
  }

  /** Adds a listener; the first one starts the subscriptions and the interval. Returns its removal. */
  add(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    listener.snapshot(this.#last);
    return () => {
      if (!this.#listeners.delete(listener)) return;
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  /** Ends every listener's stream and stops watching. */
  close(): void {
    for (const l of [...this.#listeners]) l.end();
    this.#listeners.clear();
    this.#stop();
  }

  #start(): void {
    for (const [name, fn] of this.#subscriptions) diagnosticsChannel.subscribe(name, fn);
    this.#since = this.#o.now();
    this.#zero();
    this.#timer = setInterval(() => void this.#tick(), this.#o.intervalMs);
    this.#timer.unref();
    void this.#tick(); // health and occupancy at once, not an interval later
  }

  #stop(): void {
    for (const [name, fn] of this.#subscriptions) diagnosticsChannel.unsubscribe(name, fn);
    this.#storeFailures.clear(); // a page opened later starts its feed afresh
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    const health = this.#o.health;
    if (health !== undefined && this.#o.now() - this.#healthAt >= this.#o.healthIntervalMs) {
      this.#healthAt = this.#o.now();
      try {
        const r = await health.report('all');
        this.#health = {
          status: r.status,
          shuttingDown: r.shuttingDown,
          checks: r.results.map((c) => ({ name: c.name, status: c.timedOut ? 'fail' : c.status })),
        };
        for (const c of r.results) this.#checks.set(c.name, c.status);
      } catch {
        this.#health = { status: 'fail', shuttingDown: false, checks: [] };
      }
    }
    if (this.#listeners.size === 0) return;
    for (const { event, more } of this.#storeFailures.values()) {
      if (more > 0) this.#feed('error', storeFailure(event, `failed ${more} more times`));
    }
    this.#storeFailures.clear();
    // Read after the report: a slow one spans other ticks, which moved #since meanwhile.
    const now = this.#o.now();
    const seconds = Math.max(now - this.#since, 1) / 1000;
    this.#last = this.#take(now, seconds);
    this.#since = now;
    this.#zero();
    for (const l of this.#listeners) l.snapshot(this.#last);
  }

  #zero(): void {
    for (const c of this.#calls.values()) c.success = c.error = c.rejected = c.timeout = 0;
    for (const d of this.#decisions.values()) d.allowed = d.limited = d.storeErrors = 0;
  }

  #take(at: number, seconds: number): StatusSnapshot {
    const rate = (n: number) => Math.round((n / seconds) * 100) / 100;
    const breakers: StatusSnapshot['breakers'][number][] = [];
    for (const [name, ref] of this.#breakers) {
      const b = ref.deref();
      if (b === undefined) {
        this.#breakers.delete(name);
        continue;
      }
      const { calls, failures, slow } = b.counts;
      breakers.push({ name, state: b.state, calls, failures, slow, retryAfterMs: b.retryAfterMs });
    }
    const bulkheads = new Map<string, { name: string; active: number; queued: number; limit: number }>();
    for (const [name, o] of this.#occupancy) bulkheads.set(name, { name, ...o });
    for (const [name, ref] of this.#bulkheads) {
      const b = ref.deref();
      if (b === undefined) this.#bulkheads.delete(name);
      else bulkheads.set(name, { name, active: b.active, queued: b.queued, limit: b.limit });
    }
    return {
      at,
      breakers: breakers.sort((a, b) => a.name.localeCompare(b.name)),
      bulkheads: [...bulkheads.values()].sort((a, b) => a.name.localeCompare(b.name)),
      limiters: [...this.#decisions]
        .map(([name, d]) => ({
          name,
          allowed: rate(d.allowed),
          limited: rate(d.limited),
          storeErrors: rate(d.storeErrors),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      policies: [...this.#calls.values()]
        .map((c) => ({
          policy: c.policy,
          name: c.name,
          success: rate(c.success),
          error: rate(c.error),
          rejected: rate(c.rejected),
          timeout: rate(c.timeout),
        }))
        .sort((a, b) => a.policy.localeCompare(b.policy) || a.name.localeCompare(b.name)),
      health: this.#health,
    };
  }

  #feed(level: StatusFeedEvent['level'], text: string): void {
    const event = { at: this.#o.now(), level, text };
    for (const l of this.#listeners) l.feed(event);
  }

  #call(e: PolicyCallEvent): void {
    const name = nameOf(e.name);
    const key = `${e.policy}\u0000${name}`;
    let c = this.#calls.get(key);
    if (c === undefined) {
      if (this.#calls.size >= MAX_SERIES) return;
      c = { policy: e.policy, name, success: 0, error: 0, rejected: 0, timeout: 0 };
      this.#calls.set(key, c);
    }
    c[e.outcome]++;
    if (e.policy === 'circuit-breaker' && !this.#breakers.has(name) && this.#breakers.size < MAX_SERIES) {
      this.#breakers.set(name, new WeakRef(e.source as StatusBreaker));
    } else if (e.policy === 'bulkhead' && !this.#bulkheads.has(name) && this.#bulkheads.size < MAX_SERIES) {
      this.#bulkheads.set(name, new WeakRef(e.source as StatusBulkhead));
    }
  }

  #stateChange(e: StateChangeEvent): void {
    const level = e.to === 'open' || e.to === 'isolated' ? 'warn' : 'info';
    this.#feed(level, `circuit ${nameOf(e.name) || '(unnamed)'}: ${e.from} → ${e.to}`);
  }

  #occupied(e: BulkheadOccupancyEvent): void {
    const name = nameOf(e.name);
    if (this.#bulkheads.has(name)) return; // read from the instance itself
    const o = this.#occupancy.get(name);
    if (o !== undefined) Object.assign(o, { active: e.active, queued: e.queued });
    else if (this.#occupancy.size < MAX_SERIES)
      this.#occupancy.set(name, { active: e.active, queued: e.queued, limit: 0 });
  }

  #limitChange(e: LimitChangeEvent): void {
    const o = this.#occupancy.get(nameOf(e.name));
    if (o !== undefined) o.limit = e.to;
  }

  #decision(e: RateLimitDecisionEvent): void {
    let d = this.#decisions.get(e.name);
    if (d === undefined) {
      if (this.#decisions.size >= MAX_SERIES) return;
      d = { allowed: 0, limited: 0, storeErrors: 0 };
      this.#decisions.set(e.name, d);
    }
    if (e.allowed) d.allowed++;
    else d.limited++;
    if (e.storeError) d.storeErrors++;
  }

  #storeError(e: StoreErrorEvent): void {
    const key = `${e.prefix}\u0000${e.operation}\u0000${e.decidedBy}`;
    const seen = this.#storeFailures.get(key);
    if (seen !== undefined) seen.more++;
    else if (this.#storeFailures.size < MAX_SERIES) {
      this.#storeFailures.set(key, { event: e, more: 0 });
      this.#feed('error', storeFailure(e, 'failed'));
    }
  }

  #check(e: CheckEvent): void {
    const before = this.#checks.get(e.name);
    this.#checks.set(e.name, e.status);
    if (before === undefined || before === e.status) return;
    this.#feed(
      e.status === 'fail' ? 'error' : e.status === 'warn' ? 'warn' : 'info',
      `check ${e.name}: ${before} → ${e.status}`,
    );
  }

  #shutdown(e: ShutdownEvent): void {
    if (e.step !== 'begin') return;
    this.#feed('warn', `shutting down (${e.name ?? 'shutdown()'})`);
    // An open event stream would keep its connection busy until the drain times out: end them now.
    this.close();
  }
}
