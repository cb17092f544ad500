import calculateSlot from 'cluster-key-slot';
import { TimeoutError, type Clock } from '@bulwark/core';
import { DeadlineQueue, type DeadlineEntry } from '@bulwark/core/internal';
import { RATE_LIMIT_SCRIPT, RATE_LIMIT_SCRIPT_SHA } from './redis-script.js';

/**
 * The Redis commands the store uses. An ioredis client (standalone or `Cluster`) is one as it is; for node-redis,
 * see the README's four-line wrapper.
 */
export interface RedisClientLike {
  /** Runs a loaded script by its SHA-1 (`NOSCRIPT` when Redis does not have it). */
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** Runs (and loads) a script by its text. */
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
 * True when Redis answered with an error (a Lua error, WRONGTYPE): the connection works, so this call failed but
 * the node is not down. ioredis names these `ReplyError`.
 */
function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

/**
 * True when a Cluster node refused a script's access to a key it does not serve (its slot moved; Redis 7 words it
 * "Script attempted to access a non local key", earlier versions "Lua script attempted to...").
 */
function isNotLocal(error: unknown): boolean {
  return isReplyError(error) && (error as Error).message.includes('non local key');
}

/**
 * The node owning a key, for per-node backoff and batching: on an ioredis `Cluster`, the master its slot maps to
 * (`slots` is ioredis' slot table); `''` for a single Redis, where there is one node.
 */
function nodeResolver(client: RedisClientLike): (key: string) => string {
  const cluster = client as { isCluster?: boolean; slots?: readonly (readonly string[] | undefined)[] };
  if (cluster.isCluster !== true) return () => '';
  return (key) => cluster.slots?.[calculateSlot(key)]?.[0] ?? '';
}

/**
 * Runs the rate-limit script: batches the calls of one tick (per node on a Cluster), bounds each round trip by
 * `timeoutMs`, falls back to EVAL on NOSCRIPT, and after a node failed (no connection, or no reply in time) refuses
 * that node's calls at once for `errorBackoffMs`: on a Cluster, the other nodes' keys are decided by Redis as usual.
 * It knows nothing of limits or decisions: replies are arrays of integers, `replyLength` long per call.
 */
export class ScriptRunner {
  readonly #client: RedisClientLike;
  readonly #timeoutMs: number;
  readonly #errorBackoffMs: number;
  readonly #batch: boolean;
  /** Batches are per node, keys in ARGV (an ioredis `Cluster`). */
  readonly #spread: boolean;
  readonly #clock: Clock;
  readonly #deadlines: DeadlineQueue;
  readonly #nodeOf: (key: string) => string;
  #queue: Pending[] = [];
  /** Nodes in backoff: until when, and the error that put them there. Empty while every node answers. */
  readonly #down = new Map<string, { until: number; error: Error }>();

  constructor(options: ScriptRunnerOptions) {
    this.#client = options.client;
    this.#timeoutMs = options.timeoutMs;
    this.#errorBackoffMs = options.errorBackoffMs;
    this.#batch = options.batch;
    this.#spread = options.batch && (options.client as { isCluster?: boolean }).isCluster === true;
    this.#clock = options.clock;
    this.#deadlines = new DeadlineQueue(options.clock);
    this.#nodeOf = nodeResolver(options.client);
  }

  /**
   * Runs the script for one call, batched with the calls of the same tick when batching is on.
   * `replyLength`: how many integers the call's reply has (a batch's reply is its calls' replies concatenated).
   */
  run(keys: string[], args: string[], replyLength: number): Promise<unknown> {
    if (this.#down.size > 0) {
      const node = this.#nodeOf(keys[0]!);
      const down = this.#down.get(node);
      if (down !== undefined) {
        if (this.#clock.now() < down.until) return Promise.reject(down.error);
        this.#down.delete(node);
      }
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
    if (!this.#spread || queue.length === 1) {
      this.#runBatches(queue);
      return;
    }
    // On a Cluster, one batch per node: a script runs on one node and can only reach the keys it serves.
    const byNode = new Map<string, Pending[]>();
    for (const call of queue) {
      const node = this.#nodeOf(call.keys[0]!);
      if (node === '') {
        this.#runAlone(call); // no slot table yet (not connected): the client routes each call when it is
        continue;
      }
      const calls = byNode.get(node);
      if (calls === undefined) byNode.set(node, [call]);
      else calls.push(call);
    }
    for (const calls of byNode.values()) this.#runBatches(calls);
  };

  /** Runs `queue` as script runs of at most `MAX_BATCH` calls. */
  #runBatches(queue: Pending[]): void {
    for (let start = 0; start < queue.length; start += MAX_BATCH) {
      const calls = queue.length <= MAX_BATCH ? queue : queue.slice(start, start + MAX_BATCH);
      if (calls.length === 1) this.#runAlone(calls[0]!);
      else this.#runBatch(calls);
    }
  }

  #runAlone(call: Pending): void {
    this.#timed(call.keys, call.args).then(call.resolve, call.reject);
  }

  /**
   * Several calls in one script run. On one Redis, the keys are the script's KEYS; on a Cluster node (keys of several
   * slots), they go in ARGV with one key declared for routing (a spread batch), and if the node does not serve one
   * of them (the slot table changed since it was read) the script fails before writing and each call runs alone.
   */
  #runBatch(calls: Pending[]): void {
    const keys: string[] = [];
    let replyLength = 0;
    for (const call of calls) {
      for (const k of call.keys) keys.push(k);
      replyLength += call.replyLength;
    }
    let args: string[];
    if (this.#spread) {
      args = ['spread', String(keys.length)];
      for (const k of keys) args.push(k);
    } else args = ['batch'];
    for (const call of calls) for (const a of call.args) args.push(a);
    this.#timed(this.#spread ? [keys[0]!] : keys, args).then(
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
        if (this.#spread && isNotLocal(error)) for (const call of calls) this.#runAlone(call);
        else for (const call of calls) call.reject(error);
      },
    );
  }

  /** Runs the script with the store's timeout; a failure of the node starts its error backoff. */
  #timed(keys: string[], args: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const timedOut = () => {
        if (settled) return;
        settled = true;
        reject(this.#fail(new TimeoutError(this.#timeoutMs), keys[0]!));
      };
      const entry: DeadlineEntry = {
        deadline: this.#clock.now() + this.#timeoutMs,
        queued: false,
        // A deadline seen late (a GC pause, a long synchronous task) may find the reply already in the socket:
        // timers run before the loop reads sockets, so give the reply that turn before calling Redis slow.
        expire: () => {
          if (!settled) setImmediate(timedOut);
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
          reject(this.#fail(error, keys[0]!));
        },
      );
    });
  }

  /** The error of a failed call; puts the key's node in backoff unless Redis itself answered with the error. */
  #fail(error: unknown, key: string): Error {
    const e = error instanceof Error ? error : new Error(String(error));
    if (this.#errorBackoffMs > 0 && !isReplyError(e)) {
      this.#down.set(this.#nodeOf(key), { until: this.#clock.now() + this.#errorBackoffMs, error: e });
    }
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
