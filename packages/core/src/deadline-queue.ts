import { unrefTimer, type Clock } from './clock.js';

/** An entry in a {@link DeadlineQueue}. */
export interface DeadlineEntry {
  /** Clock time at which `expire` is due. */
  deadline: number;
  /** Set by the queue: true while the entry waits for its deadline. */
  queued: boolean;
  /** Called once, when the deadline passes while the entry is still queued. */
  expire(): void;
}

/**
 * Deadlines that are added in non-decreasing order (a policy with one fixed duration), served by one timer.
 *
 * Arming a Node timer per call costs ~400 ns; here a call costs an array push and a flag. Settled entries are
 * skipped lazily and compacted once they outnumber the live ones, so memory stays proportional to the calls in
 * flight. The one timer is `unref`'d, as undici does with its request timers: it never keeps the process alive by
 * itself (the work being timed, a socket say, does), and with nothing queued it lapses at its due time.
 */
export class DeadlineQueue {
  readonly #clock: Clock;
  #entries: DeadlineEntry[] = [];
  #head = 0;
  #live = 0;
  #timer: unknown = undefined;
  #firing = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Number of entries waiting for their deadline. */
  get size(): number {
    return this.#live;
  }

  /** Length of the backing array (live plus not yet compacted settled entries), for leak tests. */
  get footprint(): number {
    return this.#entries.length - this.#head;
  }

  /** Queues `entry`; its deadline must not be earlier than any queued entry's. */
  add(entry: DeadlineEntry): void {
    entry.queued = true;
    this.#entries.push(entry);
    this.#live++;
    // A pending timer is due no later than this entry (deadlines do not decrease) and re-arms when it fires.
    if (this.#timer === undefined && !this.#firing) this.#arm(entry.deadline);
  }

  /** Takes a queued `entry` out (it settled before its deadline). */
  remove(entry: DeadlineEntry): void {
    if (!entry.queued) return;
    entry.queued = false;
    this.#live--;
    if (this.#live === 0) {
      // Drop the settled entries with pop(), not `length = 0`: that releases the backing store and the next add
      // reallocates it (~60 ns a call when calls run one at a time). The timer stays armed and lapses by itself.
      const entries = this.#entries;
      while (entries.length > 0) entries.pop();
      this.#head = 0;
      return;
    }
    const entries = this.#entries;
    while (this.#head < entries.length && !entries[this.#head]!.queued) this.#head++;
    const settled = entries.length - this.#head - this.#live;
    if (settled > 64 && settled > 2 * this.#live) this.#compact();
  }

  #compact(): void {
    const kept: DeadlineEntry[] = [];
    for (let i = this.#head; i < this.#entries.length; i++) {
      const e = this.#entries[i]!;
      if (e.queued) kept.push(e);
    }
    this.#entries = kept;
    this.#head = 0;
  }

  #arm(deadline: number): void {
    const delay = Math.max(1, Math.ceil(deadline - this.#clock.now()));
    this.#timer = this.#clock.setTimeout(this.#fire, delay);
    unrefTimer(this.#timer);
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#firing = true;
    try {
      const now = this.#clock.now();
      while (this.#head < this.#entries.length) {
        const e = this.#entries[this.#head]!;
        if (e.queued && e.deadline > now) break;
        this.#head++;
        if (!e.queued) continue;
        e.queued = false;
        this.#live--;
        e.expire();
      }
    } finally {
      this.#firing = false;
    }
    if (this.#live === 0) {
      this.#entries.length = 0;
      this.#head = 0;
      return;
    }
    if (this.#head > 1024) this.#compact();
    while (!this.#entries[this.#head]!.queued) this.#head++;
    this.#arm(this.#entries[this.#head]!.deadline);
  };
}
