import { LRUCache } from 'lru-cache';
import type { LimitRule } from './algorithms.js';
import type { Decision } from './decision.js';
import type { LimitBinding } from './store.js';

/** Options of lease mode (`redisStore({ lease })`). */
export interface LeaseOptions {
  /** Units taken from the shared quota per Redis call, then spent locally. */
  readonly units: number;
  /**
   * How long a lease may be spent, in ms; what is left then goes back. Default: 1 % of the limit's window. Leased
   * units are counted in Redis when leased and used up to this much later, so over any window a fleet admits at
   * most `limit × ms / windowMs` more than exact mode (1 % by default).
   */
  readonly ms?: number;
  /** Keys holding a lease at once, per limit (default 10 000); the least recently used lease is returned. */
  readonly maxKeys?: number;
}

interface Lease {
  /** Units left to spend locally. */
  remaining: number;
  /** When the lease stops being spent, on the limiter's clock. */
  expiresAt: number;
  /** The Redis decision that granted it (for the fields a local decision reports). */
  granted: Decision;
  /** A lease call in flight for this key: later calls wait for it instead of making their own. */
  pending: Promise<unknown> | undefined;
}

/**
 * Lease mode for one limit in Redis: a process takes `units` of a key's quota in one script call and decides
 * locally until they are spent or `ms` has passed, returning what it did not use. Near the limit, when a whole lease
 * no longer fits, it decides each request exactly. One limit per binding (several limits decided together stay
 * exact).
 */
export class LeaseBinding implements LimitBinding<'async'> {
  readonly #inner: LimitBinding<'async'>;
  readonly #units: number;
  readonly #ms: number;
  readonly #leases: LRUCache<string, Lease>;

  constructor(inner: LimitBinding<'async'>, rule: LimitRule, options: LeaseOptions) {
    this.#inner = inner;
    this.#units = options.units;
    this.#ms = options.ms ?? rule.windowMs / 100;
    this.#leases = new LRUCache<string, Lease>({
      max: options.maxKeys ?? 10_000,
      // A lease pushed out by others gives back what it did not spend.
      dispose: (lease, key, reason) => {
        if (reason === 'evict') this.#giveBack(key, lease, lease.granted.resetMs);
      },
    });
  }

  consume(key: string, cost: number, now: number): Promise<Decision> {
    const lease = this.#leases.get(key);
    if (lease !== undefined) {
      if (lease.pending !== undefined) return lease.pending.then(() => this.consume(key, cost, now));
      if (now < lease.expiresAt && lease.remaining >= cost) {
        lease.remaining -= cost;
        return Promise.resolve(this.#local(lease));
      }
      this.#giveBack(key, lease, now);
    }
    return this.#renew(key, cost, now);
  }

  /** A new lease of `units` (covering this request), or, when a whole lease no longer fits, an exact decision. */
  #renew(key: string, cost: number, now: number): Promise<Decision> {
    const want = Math.max(this.#units, cost);
    const lease: Lease = { remaining: 0, expiresAt: 0, granted: undefined as unknown as Decision, pending: undefined };
    const pending = this.#inner.consume(key, want, now).then(async (granted) => {
      if (granted.allowed && granted.error === undefined) {
        Object.assign(lease, { remaining: want - cost, expiresAt: now + this.#ms, granted, pending: undefined });
        return this.#local(lease);
      }
      // No lease: drop the entry and decide this request alone (a refusal, or a store failure, as it came).
      this.#leases.delete(key);
      if (granted.error !== undefined || want === cost) return granted;
      return this.#inner.consume(key, cost, now);
    });
    lease.pending = pending;
    this.#leases.set(key, lease);
    pending.catch(() => this.#leases.delete(key));
    return pending;
  }

  /** What a locally spent unit reports: allowed, and what is left here and in Redis. */
  #local(lease: Lease): Decision {
    const g = lease.granted;
    return { ...g, allowed: true, remaining: g.remaining + lease.remaining, retryAfterMs: 0 };
  }

  /** Returns a lease's unspent units to Redis (in the background: nothing waits for it). */
  #giveBack(key: string, lease: Lease, now: number): void {
    const left = lease.remaining;
    lease.remaining = 0;
    if (left > 0) this.#inner.refund(key, left, now).catch(() => {});
  }

  peek(key: string, cost: number, now: number): Promise<Decision> {
    const lease = this.#leases.peek(key);
    if (lease !== undefined && lease.pending === undefined && now < lease.expiresAt && lease.remaining >= cost) {
      return Promise.resolve(this.#local(lease));
    }
    return this.#inner.peek(key, cost, now);
  }

  refund(key: string, cost: number, now: number): Promise<void> {
    const lease = this.#leases.get(key);
    // Units given back while a lease is live go back into it: they were counted in Redis when it was taken.
    if (lease !== undefined && lease.pending === undefined && now < lease.expiresAt) {
      lease.remaining += cost;
      return Promise.resolve();
    }
    return this.#inner.refund(key, cost, now);
  }

  reset(key: string): Promise<void> {
    this.#leases.delete(key);
    return this.#inner.reset(key);
  }
}
