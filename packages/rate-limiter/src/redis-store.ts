import { z } from 'zod';
import { systemClock, type Clock, type Unsubscribe } from '@bulwark/core';
import { bulwarkChannel, clockSchema, Emitter, methodsSchema, parseOptions } from '@bulwark/core/internal';
import type { LimitRule } from './algorithms.js';
import { isMemoryStore, type MemoryStore } from './memory-store.js';
import { LeaseBinding, type LeaseOptions } from './lease-binding.js';
import { operationName, RedisBinding, type Operation } from './redis-binding.js';
import { ScriptRunner, type RedisClientLike } from './script-runner.js';
import { checkRule, type LimitBinding, type RateLimitStore } from './store.js';

export type { RedisClientLike } from './script-runner.js';

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
   * When Redis fails: `'open'` allows the request (default), `'closed'` refuses it
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
   * Lease mode, for very hot keys: take `units` of a key's quota per Redis call and decide locally until they are
   * spent or `ms` (default 1 % of the window) has passed, returning what is left. Many times fewer round trips; a
   * fleet may admit up to `limit × ms / windowMs` more than exact mode over a window (1 % by default), and a
   * process holding unspent units can refuse another for up to `ms`. Single-limit limiters only; off by default.
   */
  lease?: LeaseOptions;
  /**
   * Combine the calls made in the same tick (concurrent requests) into one script call: one round trip for many
   * decisions, each still atomic. On an ioredis `Cluster`, one script call per node, for the keys that node serves.
   * Default on.
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
      .default('bulwark:rl:'),
    timeoutMs: z.number().positive().max(60_000).default(500),
    onError: z
      .union([
        z.enum(['open', 'closed']),
        z.custom<MemoryStore>(isMemoryStore, { message: 'expected a memoryStore()' }),
      ])
      .default('open'),
    errorBackoffMs: z.number().min(0).max(3_600_000).default(1_000),
    blockCache: z
      .union([
        z.literal(false),
        z.object({ maxKeys: z.number().int().min(1).max(10_000_000).default(10_000) }).strict(),
      ])
      .default({ maxKeys: 10_000 }),
    time: z.enum(['redis', 'limiter']).default('redis'),
    clock: clockSchema.default(() => systemClock),
    batch: z.boolean().default(true),
    lease: z
      .object({
        units: z.number().int().min(2).max(1_000_000),
        ms: z.number().positive().max(3_600_000).optional(),
        maxKeys: z.number().int().min(1).max(10_000_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A store in Redis, shared by every instance of a service. Create with {@link redisStore}. */
export class RedisStore implements RateLimitStore<'async'> {
  readonly mode = 'async' as const;
  readonly prefix: string;
  /** True when decisions use the limiter's clock instead of Redis `TIME`. */
  readonly clientTime: boolean;
  readonly onErrorPolicy: RedisErrorPolicy;
  readonly #runner: ScriptRunner;
  readonly #blockKeys: number;
  readonly #lease: LeaseOptions | undefined;
  readonly #rules = new Map<string, LimitRule>();
  readonly #errors = new Emitter<StoreErrorEvent>(storeErrorChannel);

  constructor(options: RedisStoreOptions) {
    const o = parseOptions(optionsSchema, options, 'redisStore()');
    this.prefix = o.prefix;
    this.onErrorPolicy = o.onError;
    this.#blockKeys = o.blockCache === false ? 0 : o.blockCache.maxKeys;
    this.#lease = o.lease;
    this.clientTime = o.time === 'limiter';
    this.#runner = new ScriptRunner(o);
  }

  bind(rules: readonly LimitRule[]): LimitBinding<'async'> {
    for (const rule of rules) checkRule(this.#rules, rule);
    const policy = this.onErrorPolicy;
    const exact = new RedisBinding(this, rules, isMemoryStore(policy) ? policy : undefined, this.#blockKeys);
    // Lease mode for a single limit; several limits decided together must be decided together, in Redis.
    return this.#lease !== undefined && rules.length === 1 ? new LeaseBinding(exact, rules[0]!, this.#lease) : exact;
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

  /** @internal Runs the script for one call (see {@link ScriptRunner.run}). */
  run(keys: string[], args: string[], replyLength: number): Promise<unknown> {
    return this.#runner.run(keys, args, replyLength);
  }

  /** @internal Publishes a call answered by the `onError` policy. */
  reportError(op: Operation, error: unknown): void {
    if (!this.#errors.active) return;
    const policy = this.onErrorPolicy;
    const decidedBy = policy === 'open' || policy === 'closed' ? policy : 'fallback';
    this.#errors.emit({ prefix: this.prefix, operation: operationName[op], decidedBy, error });
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
