import { z } from 'zod';
import { parseOptions } from '@bulwark/core/internal';
import { algorithms, evaluation, type Evaluate, type Evaluation, type LimitRule, type Refund } from './algorithms.js';
import { joinDecisions, toDecision, type Decision } from './decision.js';
import { checkRule, type LimitBinding, type RateLimitStore } from './store.js';

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most keys kept per limit; when full, a key not seen for the longest while is dropped (second-chance FIFO, an
   * approximation of least recently used; its next request starts afresh). Memory grows with the keys in use and is
   * bounded by this whatever the key flood. Default 100,000.
   */
  maxKeys?: number;
}

const optionsSchema = z
  .object({
    maxKeys: z
      .number()
      .int()
      .min(1)
      .max(2 ** 30)
      .default(100_000),
  })
  .strict();

const INITIAL_SLOTS = 64;

/**
 * One limit's keys: a `Map` from key to slot, each slot's numbers in a `Float64Array`, so a decision updates numbers
 * in place and allocates nothing. Memory follows the keys in use: the arrays start small and double, up to
 * `maxKeys` slots. When full, eviction is second-chance FIFO (CLOCK) over the map's insertion order: a decision
 * marks its key seen; the eviction cursor gives a seen key another round (re-inserting it at the end) and evicts the
 * first unseen one, which approximates least-recently-used with one byte per key instead of a linked list.
 * Limiters that bind the same limit (by name) share its table.
 */
class Table {
  readonly #index = new Map<string, number>();
  /** Numbers per slot: the algorithm's state, then the penalty's end for limits with one. */
  readonly #stride: number;
  readonly #width: number;
  readonly #blocks: boolean;
  readonly #max: number;
  readonly #evaluate: Evaluate;
  readonly #refund: Refund;
  #slots: Float64Array;
  #seen: Uint8Array;
  /** Slots handed out so far; those below it that were freed wait in `#free`. */
  #used = 0;
  readonly #free: number[] = [];
  #cursor: MapIterator<[string, number]> | undefined;

  constructor(
    readonly rule: LimitRule,
    maxKeys: number,
  ) {
    const spec = algorithms[rule.algorithm];
    this.#width = spec.width;
    this.#blocks = rule.blockMs > 0;
    this.#stride = spec.width + (this.#blocks ? 1 : 0);
    this.#evaluate = spec.evaluate;
    this.#refund = spec.refund;
    this.#max = maxKeys;
    const initial = Math.min(INITIAL_SLOTS, maxKeys);
    this.#slots = new Float64Array(initial * this.#stride);
    this.#seen = new Uint8Array(initial);
  }

  /** Keys held. */
  get size(): number {
    return this.#index.size;
  }

  /** The key's slot, marking it seen (a decision that may change it). */
  slot(key: string): number | undefined {
    const slot = this.#index.get(key);
    if (slot !== undefined) this.#seen[slot] = 1;
    return slot;
  }

  /** The key's slot, without marking it seen. */
  peek(key: string): number | undefined {
    return this.#index.get(key);
  }

  /** Evaluates a request into `e`, penalties included. */
  decide(slot: number | undefined, now: number, cost: number, e: Evaluation): void {
    const s = this.#slots;
    const width = this.#width;
    const i = slot === undefined ? 0 : slot * this.#stride;
    // A slot holding only a penalty has NaN for its state: the algorithm sees a new key.
    const has = slot !== undefined && s[i] === s[i];
    // One call for known and new keys (one inlining site); a new key passes numbers every algorithm ignores.
    this.#evaluate(this.rule, has, s[i]!, width > 1 ? s[i + 1]! : 0, width > 2 ? s[i + 2]! : 0, now, cost, e);
    if (this.#blocks && slot !== undefined) {
      const until = s[i + width]!;
      if (until > now) {
        e.allowed = false;
        e.remaining = 0;
        e.retryAfterMs = Math.max(e.retryAfterMs, until - now);
      }
    }
  }

  /** Stores the evaluated state of an admitted request. */
  commit(key: string, slot: number | undefined, e: Evaluation): void {
    const at = slot ?? this.#add(key);
    const s = this.#slots;
    const width = this.#width;
    const i = at * this.#stride;
    s[i] = e.n0;
    if (width > 1) s[i + 1] = e.n1;
    if (width > 2) s[i + 2] = e.n2;
  }

  /** Starts a penalty for a refused request (an ongoing one is not extended); the refusal reports it. */
  penalise(key: string, slot: number | undefined, now: number, e: Evaluation): void {
    if (!this.#blocks) return;
    const i = slot === undefined ? -1 : slot * this.#stride + this.#width;
    if (i >= 0 && this.#slots[i]! > now) return;
    const at = slot ?? this.#add(key);
    const s = this.#slots;
    if (slot === undefined) s[at * this.#stride] = NaN; // a penalty, no state yet
    s[at * this.#stride + this.#width] = now + this.rule.blockMs;
    e.remaining = 0;
    e.retryAfterMs = Math.max(e.retryAfterMs, this.rule.blockMs);
  }

  refund(key: string, now: number, cost: number, e: Evaluation): void {
    const slot = this.slot(key);
    if (slot === undefined) return;
    const s = this.#slots;
    const i = slot * this.#stride;
    if (s[i] !== s[i]) return; // a penalty only: nothing was counted
    this.#refund(this.rule, s[i]!, this.#width > 1 ? s[i + 1]! : 0, this.#width > 2 ? s[i + 2]! : 0, now, cost, e);
    const penalised = this.#blocks && s[i + this.#width]! > now;
    if (e.ttlMs <= 0 && !penalised) this.#delete(key, slot);
    else this.commit(key, slot, e);
  }

  reset(key: string): void {
    const slot = this.#index.get(key);
    if (slot !== undefined) this.#delete(key, slot);
  }

  #delete(key: string, slot: number): void {
    this.#index.delete(key);
    this.#free.push(slot);
  }

  /** A slot for a new key: a freed one, a fresh one (growing the arrays), or an evicted key's when full. */
  #add(key: string): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      if (this.#index.size >= this.#max) slot = this.#evict();
      else {
        if (this.#used === this.#seen.length) this.#grow();
        slot = this.#used++;
      }
    }
    this.#seen[slot] = 1;
    if (this.#blocks) this.#slots[slot * this.#stride + this.#width] = 0;
    this.#index.set(key, slot);
    return slot;
  }

  #grow(): void {
    const capacity = Math.min(this.#seen.length * 2, this.#max);
    const slots = new Float64Array(capacity * this.#stride);
    slots.set(this.#slots);
    this.#slots = slots;
    const seen = new Uint8Array(capacity);
    seen.set(this.#seen);
    this.#seen = seen;
  }

  /**
   * Second-chance FIFO: walks the map in insertion order with one live iterator (so deleted entries behind it are
   * never walked again), re-inserting seen keys at the end with their mark cleared, and evicts the first unseen key.
   */
  #evict(): number {
    for (;;) {
      let next = this.#cursor?.next();
      if (next === undefined || next.done === true) {
        this.#cursor = this.#index.entries();
        next = this.#cursor.next();
      }
      const [key, slot] = next.value as [string, number];
      this.#index.delete(key);
      if (this.#seen[slot] === 1) {
        this.#seen[slot] = 0;
        this.#index.set(key, slot);
      } else return slot;
    }
  }
}

/** One limit: the hot path, with nothing allocated but the decision. */
class SingleBinding implements LimitBinding<'sync'> {
  readonly #table: Table;
  readonly #e = evaluation();

  constructor(table: Table) {
    this.#table = table;
  }

  consume(key: string, cost: number, now: number): Decision {
    const table = this.#table;
    const e = this.#e;
    const slot = table.slot(key);
    table.decide(slot, now, cost, e);
    if (e.allowed) table.commit(key, slot, e);
    else table.penalise(key, slot, now, e);
    return toDecision(table.rule, e);
  }

  peek(key: string, cost: number, now: number): Decision {
    const table = this.#table;
    table.decide(table.peek(key), now, cost, this.#e);
    return toDecision(table.rule, this.#e);
  }

  refund(key: string, cost: number, now: number): void {
    this.#table.refund(key, now, cost, this.#e);
  }

  reset(key: string): void {
    this.#table.reset(key);
  }
}

/** Several limits decided as one: every limit admits the request, or none counts it. */
class MultiBinding implements LimitBinding<'sync'> {
  readonly #tables: readonly Table[];
  readonly #evaluations: readonly Evaluation[];
  readonly #states: (number | undefined)[];

  constructor(tables: readonly Table[]) {
    this.#tables = tables;
    this.#evaluations = tables.map(() => evaluation());
    this.#states = tables.map(() => undefined);
  }

  #decide(key: string, cost: number, now: number, commit: boolean): Decision {
    const tables = this.#tables;
    const evaluations = this.#evaluations;
    const states = this.#states;
    let allowed = true;
    for (let i = 0; i < tables.length; i++) {
      const table = tables[i]!;
      const slot = commit ? table.slot(key) : table.peek(key);
      states[i] = slot;
      table.decide(slot, now, cost, evaluations[i]!);
      if (!evaluations[i]!.allowed) allowed = false;
    }
    const decisions: Decision[] = [];
    for (let i = 0; i < tables.length; i++) {
      const table = tables[i]!;
      const e = evaluations[i]!;
      if (commit) {
        if (allowed) table.commit(key, states[i], e);
        else if (!e.allowed) table.penalise(key, states[i], now, e);
      }
      // A limit that would have admitted a refused request reports its quota without it.
      if (!allowed && e.allowed) e.remaining = Math.floor(e.remaining + cost);
      states[i] = undefined;
      decisions.push(toDecision(table.rule, e));
    }
    return joinDecisions(decisions);
  }

  consume(key: string, cost: number, now: number): Decision {
    return this.#decide(key, cost, now, true);
  }

  peek(key: string, cost: number, now: number): Decision {
    return this.#decide(key, cost, now, false);
  }

  refund(key: string, cost: number, now: number): void {
    const e = this.#evaluations[0]!;
    for (const table of this.#tables) table.refund(key, now, cost, e);
  }

  reset(key: string): void {
    for (const table of this.#tables) table.reset(key);
  }
}

/** The in-process store. */
export class MemoryStore implements RateLimitStore<'sync'> {
  readonly mode = 'sync' as const;
  readonly #maxKeys: number;
  readonly #tables = new Map<string, Table>();
  readonly #rules = new Map<string, LimitRule>();

  constructor(options: MemoryStoreOptions = {}) {
    const o = parseOptions(optionsSchema, options, 'memoryStore()');
    this.#maxKeys = o.maxKeys;
  }

  bind(rules: readonly LimitRule[]): LimitBinding<'sync'> {
    const tables = rules.map((rule) => {
      checkRule(this.#rules, rule);
      let table = this.#tables.get(rule.name);
      if (table === undefined) this.#tables.set(rule.name, (table = new Table(rule, this.#maxKeys)));
      return table;
    });
    return tables.length === 1 ? new SingleBinding(tables[0]!) : new MultiBinding(tables);
  }

  /** Number of keys held for the limit `name` (for tests and capacity planning). */
  size(name: string): number {
    return this.#tables.get(name)?.size ?? 0;
  }
}

const kMemoryStore = Symbol.for('bulwark.rate-limiter.memory-store');
// A brand on the prototype rather than `instanceof`: a store from the ESM build is recognised by the CJS build.
Object.defineProperty(MemoryStore.prototype, kMemoryStore, { value: true });

/** True for a `memoryStore()` from any copy of this package. */
export function isMemoryStore(value: unknown): value is MemoryStore {
  return typeof value === 'object' && value !== null && (value as { [kMemoryStore]?: unknown })[kMemoryStore] === true;
}

/**
 * An in-process store: synchronous answers, memory that grows with the keys in use up to `maxKeys` per limit
 * (about 30 bytes a key for `gcra` besides the key itself). The default store of every limiter.
 *
 * @example
 * ```ts
 * const store = memoryStore({ maxKeys: 50_000 });
 * const perIp = rateLimiter({ name: 'ip', limit: 100, windowMs: 60_000, store });
 * perIp.consume('203.0.113.7').allowed; // true — a value, not a promise
 * ```
 */
export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  return new MemoryStore(options);
}
