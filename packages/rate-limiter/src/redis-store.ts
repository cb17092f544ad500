import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { systemClock, TimeoutError, type Clock, type Unsubscribe } from '@bulwark/core';
import {
  bulwarkChannel,
  clockSchema,
  DeadlineQueue,
  Emitter,
  methodsSchema,
  parseOptions,
  type DeadlineEntry,
} from '@bulwark/core/internal';
import type { LimitRule } from './algorithms.js';
import { joinDecisions, roundUpMs, type Decision } from './decision.js';
import { isMemoryStore, type MemoryStore } from './memory-store.js';
import { RATE_LIMIT_SCRIPT, RATE_LIMIT_SCRIPT_SHA } from './redis-script.js';
import { checkRule, type LimitBinding, type RateLimitStore } from './store.js';

/**
 * The Redis commands the store uses. An ioredis client (standalone or `Cluster`) is one as it is; for node-redis,
 * see the README's four-line wrapper.
 */
export interface RedisClientLike {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/** What the store does when Redis fails or is slower than `timeoutMs`. */
export type RedisErrorPolicy = 'open' | 'closed' | MemoryStore;

/** Options for {@link redisStore}. */
export interface RedisStoreOptions {
  client: RedisClientLike;
  /** Key prefix; keys are `<prefix>{<key>}:<limit name>`. Default `'bulwark:rl:'`. */
  prefix?: string;
  /** Longest wait for Redis before the `onError` policy decides. Default 500 ms. */
  timeoutMs?: number;
  /**
   * When Redis fails: `'open'` allows the request (default; Envoy's and Stripe's choice), `'closed'` refuses it
   * (the HTTP middleware answers 503), or a {@link MemoryStore} decides with the same limits in this process.
   * Every decision taken this way carries `error` and is published as a `store-error` event.
   */
  onError?: RedisErrorPolicy;
  /**
   * After a failure, skip Redis for this long (decide by `onError`), so a dead Redis costs one timeout per
   * interval rather than one per request. Default 1000 ms; 0 tries Redis on every call.
   */
  errorBackoffMs?: number;
  /**
   * Remember refused keys in this process until their retry time, answering them without a Redis round trip
   * (a client hammering after its 429 spares the store); the waits it reports shrink with the time since Redis
   * refused. Default on, 10,000 keys; `false` turns it off.
   */
  blockCache?: false | { maxKeys?: number };
  /**
   * Combine the calls made in the same tick (concurrent requests) into one script call: one round trip for many
   * decisions, each still atomic. Default on, off for an ioredis `Cluster` (one batch's keys may live on several
   * nodes).
   */
  batch?: boolean;
  /**
   * Time source: `'redis'` (default) reads Redis `TIME` inside the script, so app hosts with skewed clocks agree.
   * `'limiter'` uses the limiter's clock — for tests on a `VirtualClock` only.
   */
  time?: 'redis' | 'limiter';
  /** Clock for the store's own timing: `timeoutMs` deadlines and the `errorBackoffMs` window. Default: the system clock. */
  clock?: Clock;
}

/** A failed store call, as `onError` listeners and the `bulwark:rate-limiter:store-error` channel see it. */
export interface StoreErrorEvent {
  readonly prefix: string;
  readonly operation: 'consume' | 'peek' | 'refund' | 'reset';
  /** How the call was answered: allowed, refused, or by the local fallback store. */
  readonly decidedBy: 'open' | 'closed' | 'fallback';
  readonly error: unknown;
}

const storeErrorChannel = bulwarkChannel<StoreErrorEvent>('rate-limiter', 'store-error');

const optionsSchema = z
  .object({
    client: methodsSchema<RedisClientLike>(
      ['evalsha', 'eval'],
      'expected a Redis client with evalsha() and eval() (ioredis, or node-redis through the README wrapper)',
    ),
    prefix: z
      .string()
      .max(200)
      .regex(/^[^{}]*$/, { message: 'must not contain { or }: the key hash tag would change' })
      .optional(),
    timeoutMs: z.number().positive().max(60_000).optional(),
    onError: z
      .union([
        z.enum(['open', 'closed']),
        z.custom<MemoryStore>(isMemoryStore, { message: 'expected a memoryStore()' }),
      ])
      .optional(),
    errorBackoffMs: z.number().min(0).max(3_600_000).optional(),
    blockCache: z
      .union([z.literal(false), z.object({ maxKeys: z.number().int().min(1).max(10_000_000).optional() }).strict()])
      .optional(),
    time: z.enum(['redis', 'limiter']).optional(),
    clock: clockSchema.default(systemClock),
    batch: z.boolean().optional(),
  })
  .strict();

/**
 * Most calls combined into one script run: 16 take ~50 µs of Redis time (measured 2026-12-03); a longer script would
 * hold up every other Redis client for longer, and 32 gained under 5% more decisions per second.
 */
const MAX_BATCH = 16;

interface Pending {
  readonly keys: string[];
  readonly args: string[];
  readonly replyLength: number;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: Error) => void;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

type Operation = 'c' | 'p' | 'r' | 'x';
const operationName = { c: 'consume', p: 'peek', r: 'refund', x: 'reset' } as const;

interface BlockedEntry {
  /** When Redis refused, on the limiter's clock. */
  readonly at: number;
  readonly decision: Decision;
}

/** A refusal `elapsed` ms after it was decided: its waits shorter by that much, in whole ms rounded up as always. */
function aged(d: Decision, elapsed: number): Decision {
  const later = (ms: number): number => (ms === Infinity ? ms : roundUpMs(ms - elapsed));
  const decisions = d.decisions?.map((x) => aged(x, elapsed));
  return { ...d, resetMs: later(d.resetMs), retryAfterMs: later(d.retryAfterMs), ...(decisions && { decisions }) };
}

class RedisBinding implements LimitBinding<'async'> {
  readonly #store: RedisStore;
  readonly #rules: readonly LimitRule[];
  readonly #suffixes: readonly string[];
  readonly #spec: string;
  readonly #fallback: LimitBinding<'sync'> | undefined;
  readonly #blocked: LRUCache<string, BlockedEntry> | undefined;

  constructor(store: RedisStore, rules: readonly LimitRule[], fallback: MemoryStore | undefined, blockKeys: number) {
    this.#store = store;
    this.#rules = rules;
    this.#suffixes = rules.flatMap((r) => (r.blockMs > 0 ? [`}:${r.name}`, `}:${r.name}:b`] : [`}:${r.name}`]));
    this.#spec = rules.map((r) => `${r.code} ${r.limit} ${r.windowMs} ${r.burst} ${r.blockMs}`).join(' ');
    this.#fallback = fallback?.bind(rules);
    this.#blocked = blockKeys > 0 ? new LRUCache({ max: blockKeys }) : undefined;
  }

  consume(key: string, cost: number, now: number): Promise<Decision> {
    const blocked = this.#blocked?.get(key);
    if (blocked !== undefined) {
      const elapsed = now - blocked.at;
      if (elapsed < blocked.decision.retryAfterMs) return Promise.resolve(aged(blocked.decision, elapsed));
      this.#blocked!.delete(key);
    }
    return this.#decide('c', key, cost, now);
  }

  peek(key: string, cost: number, now: number): Promise<Decision> {
    return this.#decide('p', key, cost, now);
  }

  refund(key: string, cost: number, now: number): Promise<void> {
    this.#blocked?.delete(key);
    return this.#update('r', key, cost, now);
  }

  reset(key: string): Promise<void> {
    this.#blocked?.delete(key);
    return this.#update('x', key, 0, 0);
  }

  #decide(op: 'c' | 'p', key: string, cost: number, now: number): Promise<Decision> {
    return this.#store.run(this.#keys(key), this.#args(op, cost, now), this.#rules.length * 4).then(
      (reply) => {
        let decision: Decision;
        try {
          decision = this.#toDecision(reply);
        } catch (error) {
          return this.#failed(op, key, cost, now, error);
        }
        if (op === 'c' && !decision.allowed && this.#blocked !== undefined && decision.retryAfterMs < Infinity) {
          this.#blocked.set(key, { at: now, decision });
        }
        return decision;
      },
      (error: unknown) => this.#failed(op, key, cost, now, error),
    );
  }

  #update(op: 'r' | 'x', key: string, cost: number, now: number): Promise<void> {
    return this.#store.run(this.#keys(key), this.#args(op, cost, now), 0).then(
      () => undefined,
      (error: unknown) => {
        const fallback = this.#fallback;
        this.#store.reportError(op, error);
        if (fallback === undefined) return;
        if (op === 'r') fallback.refund(key, cost, now);
        else fallback.reset(key);
      },
    );
  }

  #keys(key: string): string[] {
    const head = this.#store.prefix + '{' + key;
    return this.#suffixes.map((suffix) => head + suffix);
  }

  #args(op: Operation, cost: number, now: number): string[] {
    return [op, this.#store.clientTime ? String(now) : '', String(cost), this.#spec];
  }

  #toDecision(reply: unknown): Decision {
    if (!Array.isArray(reply) || reply.length !== this.#rules.length * 4) {
      throw new TypeError(`unexpected reply from the rate-limit script: ${JSON.stringify(reply)}`);
    }
    const decisions = this.#rules.map((rule, i): Decision => ({
      allowed: reply[i * 4] === 1,
      limit: rule.limit,
      remaining: reply[i * 4 + 1] as number,
      resetMs: reply[i * 4 + 2] as number,
      retryAfterMs: reply[i * 4 + 3] === -1 ? Infinity : (reply[i * 4 + 3] as number),
      policy: rule.name,
      windowMs: rule.windowMs,
    }));
    return decisions.length === 1 ? decisions[0]! : joinDecisions(decisions);
  }

  /** Answers a decision whose Redis round trip failed, by the store's `onError` policy. */
  #failed(op: 'c' | 'p', key: string, cost: number, now: number, error: unknown): Decision {
    const fallback = this.#fallback;
    if (fallback !== undefined) {
      this.#store.reportError(op, error);
      const d = op === 'c' ? fallback.consume(key, cost, now) : fallback.peek(key, cost, now);
      return { ...d, error };
    }
    const allowed = this.#store.onErrorPolicy === 'open';
    this.#store.reportError(op, error);
    const decisions = this.#rules.map((rule): Decision => ({
      allowed,
      limit: rule.limit,
      remaining: allowed ? rule.limit : 0,
      resetMs: 0,
      retryAfterMs: allowed ? 0 : 1_000,
      policy: rule.name,
      windowMs: rule.windowMs,
      error,
    }));
    return decisions.length === 1 ? decisions[0]! : joinDecisions(decisions, error);
  }
}

/** A store in Redis, shared by every instance of a service. Create with {@link redisStore}. */
export class RedisStore implements RateLimitStore<'async'> {
  readonly mode = 'async' as const;
  readonly prefix: string;
  /** True when decisions use the limiter's clock instead of Redis `TIME`. */
  readonly clientTime: boolean;
  readonly onErrorPolicy: 'open' | 'closed' | MemoryStore;
  readonly #client: RedisClientLike;
  readonly #timeoutMs: number;
  readonly #errorBackoffMs: number;
  readonly #blockKeys: number;
  readonly #clock: Clock;
  readonly #deadlines: DeadlineQueue;
  readonly #rules = new Map<string, LimitRule>();
  readonly #errors = new Emitter<StoreErrorEvent>(storeErrorChannel);
  readonly #batch: boolean;
  #queue: Pending[] = [];
  #downUntil = 0;
  #lastError: Error = new Error('redis store down');

  constructor(options: RedisStoreOptions) {
    const o = parseOptions(optionsSchema, options, 'redisStore()');
    this.#client = options.client;
    this.prefix = o.prefix ?? 'bulwark:rl:';
    this.#timeoutMs = o.timeoutMs ?? 500;
    this.#clock = o.clock;
    this.#deadlines = new DeadlineQueue(o.clock);
    this.onErrorPolicy = options.onError ?? 'open';
    this.#errorBackoffMs = o.errorBackoffMs ?? 1_000;
    this.#blockKeys = o.blockCache === false ? 0 : (o.blockCache?.maxKeys ?? 10_000);
    this.clientTime = o.time === 'limiter';
    this.#batch = o.batch ?? (options.client as { isCluster?: boolean }).isCluster !== true;
  }

  bind(rules: readonly LimitRule[]): LimitBinding<'async'> {
    for (const rule of rules) checkRule(this.#rules, rule);
    const policy = this.onErrorPolicy;
    return new RedisBinding(this, rules, isMemoryStore(policy) ? policy : undefined, this.#blockKeys);
  }

  /**
   * Listens for failed store calls (each one answered by the `onError` policy); returns the unsubscribe function.
   *
   * @example
   * ```ts
   * store.onError(({ error, decidedBy }) => log.error({ err: error, decidedBy }, 'rate-limit store failed'));
   * ```
   */
  onError(listener: (event: StoreErrorEvent) => void): Unsubscribe {
    return this.#errors.on(listener);
  }

  /**
   * @internal Runs the script for one call, batched with the calls of the same tick when batching is on.
   * `replyLength`: how many integers the call's reply has (a batch's reply is its calls' replies concatenated).
   */
  run(keys: string[], args: string[], replyLength: number): Promise<unknown> {
    if (this.#downUntil !== 0) {
      if (this.#clock.now() < this.#downUntil) return Promise.reject(this.#lastError);
      this.#downUntil = 0;
    }
    if (!this.#batch) return this.#timed(keys, args);
    return new Promise((resolve, reject) => {
      this.#queue.push({ keys, args, replyLength, resolve, reject });
      // setImmediate runs once the current I/O callbacks and all their promise continuations are done, so callers
      // woken by one reply (or one socket read) batch together; a lone call waits one loop turn, microseconds.
      if (this.#queue.length === 1) setImmediate(this.#flush);
    });
  }

  readonly #flush = (): void => {
    const queue = this.#queue;
    this.#queue = [];
    for (let start = 0; start < queue.length; start += MAX_BATCH) {
      const calls = queue.length <= MAX_BATCH ? queue : queue.slice(start, start + MAX_BATCH);
      if (calls.length === 1) {
        const call = calls[0]!;
        this.#timed(call.keys, call.args).then(call.resolve, call.reject);
        continue;
      }
      const keys: string[] = [];
      const args = ['batch'];
      let replyLength = 0;
      for (const call of calls) {
        for (const k of call.keys) keys.push(k);
        for (const a of call.args) args.push(a);
        replyLength += call.replyLength;
      }
      this.#timed(keys, args).then(
        (reply) => {
          if (!Array.isArray(reply) || reply.length !== replyLength) {
            const error = new TypeError(`unexpected reply from the rate-limit script batch: ${JSON.stringify(reply)}`);
            for (const call of calls) call.reject(error);
            return;
          }
          let at = 0;
          for (const call of calls) {
            call.resolve(reply.slice(at, (at += call.replyLength)));
          }
        },
        (error: Error) => {
          for (const call of calls) call.reject(error);
        },
      );
    }
  };

  /** Runs the script with the store's timeout; a failure starts the error backoff. */
  #timed(keys: string[], args: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const entry: DeadlineEntry = {
        deadline: this.#clock.now() + this.#timeoutMs,
        queued: false,
        expire: () => {
          if (settled) return;
          settled = true;
          reject(this.#down(new TimeoutError(this.#timeoutMs)));
        },
      };
      this.#deadlines.add(entry);
      this.#eval(keys, args).then(
        (reply) => {
          if (settled) return;
          settled = true;
          this.#deadlines.remove(entry);
          resolve(reply);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          this.#deadlines.remove(entry);
          reject(this.#down(error));
        },
      );
    });
  }

  /** @internal Publishes a call answered by the `onError` policy. */
  reportError(op: Operation, error: unknown): void {
    if (!this.#errors.active) return;
    const policy = this.onErrorPolicy;
    const decidedBy = policy === 'open' || policy === 'closed' ? policy : 'fallback';
    this.#errors.emit({ prefix: this.prefix, operation: operationName[op], decidedBy, error });
  }

  #down(error: unknown): Error {
    const e = error instanceof Error ? error : new Error(String(error));
    this.#lastError = e;
    if (this.#errorBackoffMs > 0) this.#downUntil = this.#clock.now() + this.#errorBackoffMs;
    return e;
  }

  #eval(keys: string[], args: string[]): Promise<unknown> {
    const client = this.#client;
    // Scripts are cached per node and lost on restart or failover: EVALSHA first, EVAL (which caches it) on NOSCRIPT.
    return client.evalsha(RATE_LIMIT_SCRIPT_SHA, keys.length, ...keys, ...args).catch((error: unknown) => {
      if (isNoScript(error)) return client.eval(RATE_LIMIT_SCRIPT, keys.length, ...keys, ...args);
      throw error;
    });
  }
}

/**
 * A store in Redis for limits shared by a fleet: one Lua script decides all limits of a request atomically, with
 * time from Redis `TIME`, millisecond TTLs set in the same step, and keys hash-tagged for Redis Cluster.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { rateLimiter } from '@bulwark/rate-limiter';
 * import { redisStore } from '@bulwark/rate-limiter/redis';
 *
 * const store = redisStore({ client: new Redis(), onError: 'open', timeoutMs: 200 });
 * const limiter = rateLimiter({ name: 'api', limit: 100, windowMs: 60_000, store });
 * const d = await limiter.consume(userId);
 * ```
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}
