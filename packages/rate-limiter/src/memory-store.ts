import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { parseOptions } from '@bulwark/core/internal';
import { algorithms, evaluation, type Evaluate, type Evaluation, type LimitRule, type Refund } from './algorithms.js';
import { joinDecisions, toDecision, type Decision } from './decision.js';
import { checkRule, type LimitBinding, type RateLimitStore } from './store.js';

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most keys kept per limit; the least recently seen key is dropped first (its next request starts afresh).
   * Memory is bounded whatever the key flood. Default 100,000 (a few MB per limit).
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

/** Numbers of state each algorithm keeps per key (see `algorithms.ts`). */
/**
 * One limit's keys. The cache maps each key to a slot in a `Float64Array` holding its state, so a decision
 * updates numbers in place and allocates nothing, and a key costs the cache entry plus 8–24 bytes. Slots freed by
 * eviction or deletion are reused. Limiters that bind the same limit (by name) share its table.
 */
class Table {
  readonly states: LRUCache<string, number>;
  /** Keys refused until a time, for limits with a penalty. */
  readonly blocks: LRUCache<string, number> | undefined;
  readonly #width: number;
  readonly #evaluate: Evaluate;
  readonly #refund: Refund;
  readonly #slots: Float64Array;
  readonly #free: Int32Array;
  #freeCount: number;

  constructor(
    readonly rule: LimitRule,
    maxKeys: number,
  ) {
    const spec = algorithms[rule.algorithm];
    this.#width = spec.width;
    this.#evaluate = spec.evaluate;
    this.#refund = spec.refund;
    // One spare slot: a new key takes it before the cache evicts (and frees) its oldest key.
    const slots = maxKeys + 1;
    this.#slots = new Float64Array(slots * this.#width);
    this.#free = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.#free[i] = slots - 1 - i;
    this.#freeCount = slots;
    this.states = new LRUCache<string, number>({
      max: maxKeys,
      dispose: (slot) => {
        this.#free[this.#freeCount++] = slot;
      },
    });
    this.blocks = rule.blockMs > 0 ? new LRUCache<string, number>({ max: maxKeys }) : undefined;
  }

  /** Evaluates a request into `e`, penalties included. */
  decide(key: string, slot: number | undefined, now: number, cost: number, e: Evaluation): void {
    // One call for known and new keys (one inlining site); a new key passes slot 0's numbers, which every algorithm
    // ignores when `has` is false.
    const has = slot !== undefined;
    const s = this.#slots;
    const width = this.#width;
    const i = has ? slot * width : 0;
    this.#evaluate(this.rule, has, s[i]!, width > 1 ? s[i + 1]! : 0, width > 2 ? s[i + 2]! : 0, now, cost, e);
    const blocks = this.blocks;
    if (blocks !== undefined) {
      const until = blocks.get(key);
      if (until !== undefined && until > now) {
        e.allowed = false;
        e.remaining = 0;
        e.retryAfterMs = Math.max(e.retryAfterMs, until - now);
      }
    }
  }

  /** Stores the evaluated state of an admitted request. */
  commit(key: string, slot: number | undefined, e: Evaluation): void {
    const isNew = slot === undefined;
    const at = isNew ? this.#free[--this.#freeCount]! : slot;
    const s = this.#slots;
    const width = this.#width;
    const i = at * width;
    s[i] = e.n0;
    if (width > 1) s[i + 1] = e.n1;
    if (width > 2) s[i + 2] = e.n2;
    if (isNew) this.states.set(key, at);
  }

  /** Starts a penalty for a refused request (an ongoing one is not extended); the refusal reports it. */
  penalise(key: string, now: number, e: Evaluation): void {
    const blocks = this.blocks;
    if (blocks === undefined) return;
    const until = blocks.get(key);
    if (until === undefined || until <= now) {
      blocks.set(key, now + this.rule.blockMs);
      e.remaining = 0;
      e.retryAfterMs = Math.max(e.retryAfterMs, this.rule.blockMs);
    }
  }

  refund(key: string, now: number, cost: number, e: Evaluation): void {
    const slot = this.states.get(key);
    if (slot === undefined) return;
    const s = this.#slots;
    const i = slot * this.#width;
    this.#refund(this.rule, s[i]!, this.#width > 1 ? s[i + 1]! : 0, this.#width > 2 ? s[i + 2]! : 0, now, cost, e);
    if (e.ttlMs <= 0) this.states.delete(key);
    else this.commit(key, slot, e);
  }

  reset(key: string): void {
    this.states.delete(key);
    this.blocks?.delete(key);
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
    const state = table.states.get(key);
    table.decide(key, state, now, cost, e);
    if (e.allowed) table.commit(key, state, e);
    else table.penalise(key, now, e);
    return toDecision(table.rule, e);
  }

  peek(key: string, cost: number, now: number): Decision {
    const table = this.#table;
    table.decide(key, table.states.peek(key), now, cost, this.#e);
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
      const state = commit ? table.states.get(key) : table.states.peek(key);
      states[i] = state;
      table.decide(key, state, now, cost, evaluations[i]!);
      if (!evaluations[i]!.allowed) allowed = false;
    }
    const decisions: Decision[] = [];
    for (let i = 0; i < tables.length; i++) {
      const table = tables[i]!;
      const e = evaluations[i]!;
      if (commit) {
        if (allowed) table.commit(key, states[i], e);
        else if (!e.allowed) table.penalise(key, now, e);
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
    return this.#tables.get(name)?.states.size ?? 0;
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
 * An in-process store on lru-cache: synchronous answers, memory bounded by `maxKeys` per limit, one number per key
 * for `gcra`. The default store of every limiter.
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
