import { LRUCache } from 'lru-cache';
import type { LimitRule } from './algorithms.js';
import { joinDecisions, roundUpMs, type Decision } from './decision.js';
import type { MemoryStore } from './memory-store.js';
import type { LimitBinding } from './store.js';

/** What a binding needs from its store: the script runner's `run`, and where failures are reported. */
export interface RedisBindingHost {
  readonly prefix: string;
  readonly clientTime: boolean;
  readonly onErrorPolicy: 'open' | 'closed' | MemoryStore;
  run(keys: string[], args: string[], replyLength: number): Promise<unknown>;
  reportError(op: Operation, error: unknown): void;
}

/** Script operations: consume, peek, refund, reset. */
export type Operation = 'c' | 'p' | 'r' | 'x';
export const operationName = { c: 'consume', p: 'peek', r: 'refund', x: 'reset' } as const;

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

/**
 * The limits of one limiter in Redis: builds each call's keys and arguments, reads the script's reply into
 * decisions, remembers refused keys (the block cache), and answers failed calls by the store's `onError` policy.
 */
export class RedisBinding implements LimitBinding<'async'> {
  readonly #store: RedisBindingHost;
  readonly #rules: readonly LimitRule[];
  readonly #suffixes: readonly string[];
  readonly #spec: string;
  readonly #fallback: LimitBinding<'sync'> | undefined;
  readonly #blocked: LRUCache<string, BlockedEntry> | undefined;

  constructor(
    store: RedisBindingHost,
    rules: readonly LimitRule[],
    fallback: MemoryStore | undefined,
    blockKeys: number,
  ) {
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
      return { ...d, error, fallback: true };
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
