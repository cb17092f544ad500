import { TimeoutError, type Clock } from '@bulwark/core';
import { DeadlineQueue, type DeadlineEntry } from '@bulwark/core/internal';
import { RATE_LIMIT_SCRIPT, RATE_LIMIT_SCRIPT_SHA } from './redis-script.js';

/**
 * The Redis commands the store uses. An ioredis client (standalone or `Cluster`) is one as it is; for node-redis,
 * see the README's four-line wrapper.
 */
export interface RedisClientLike {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/** How {@link ScriptRunner} talks to Redis. */
export interface ScriptRunnerOptions {
  readonly client: RedisClientLike;
  /** Longest wait for a reply; then the call fails with a `TimeoutError`. */
  readonly timeoutMs: number;
  /** After a failure, fail calls at once for this long (0: try Redis every time). */
  readonly errorBackoffMs: number;
  /** Combine the calls of one tick into one script run. */
  readonly batch: boolean;
  readonly clock: Clock;
}

/**
 * Most calls combined into one script run: a longer script holds up every other Redis client for longer, for little
 * more throughput (docs/design-notes.md).
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

/**
 * Runs the rate-limit script: batches the calls of one tick, bounds each round trip by `timeoutMs`, falls back to
 * EVAL on NOSCRIPT, and after a failure refuses calls at once for `errorBackoffMs`. It knows nothing of limits or
 * decisions: replies are arrays of integers, `replyLength` long per call.
 */
export class ScriptRunner {
  readonly #client: RedisClientLike;
  readonly #timeoutMs: number;
  readonly #errorBackoffMs: number;
  readonly #batch: boolean;
  readonly #clock: Clock;
  readonly #deadlines: DeadlineQueue;
  #queue: Pending[] = [];
  #downUntil = 0;
  #lastError: Error = new Error('redis store down');

  constructor(options: ScriptRunnerOptions) {
    this.#client = options.client;
    this.#timeoutMs = options.timeoutMs;
    this.#errorBackoffMs = options.errorBackoffMs;
    this.#batch = options.batch;
    this.#clock = options.clock;
    this.#deadlines = new DeadlineQueue(options.clock);
  }

  /**
   * Runs the script for one call, batched with the calls of the same tick when batching is on.
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
