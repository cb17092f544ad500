import fc from 'fast-check';
import type { Clock } from '@bulwark/core';
import {
  consecutive,
  countWindow,
  type CircuitBreakerOptions,
  type CircuitBreakerPolicy,
  type CircuitPermit,
} from '@bulwark/circuit-breaker';

/** A circuit breaker configuration the reference model understands (percentages as integers). */
export interface BreakerModelConfig {
  readonly window: { kind: 'consecutive'; n: number } | { kind: 'count'; size: number; minimumCalls: number };
  readonly failureRate: number;
  readonly slowMs: number | undefined;
  readonly slowRate: number;
  readonly openMs: number;
  readonly permitted: number;
  readonly successThreshold: number;
  readonly maxHalfOpenMs: number;
}

/** How a call ended, as the breaker counts it. */
export type CallClass = 'success' | 'failure' | 'ignore';

/**
 * The reference circuit breaker: the documented state machine written plainly (arrays, rescans, no cleverness),
 * with generations so a call admitted before a transition cannot count after it.
 *
 * @example
 * ```ts
 * const model = new CircuitBreakerModel(config);
 * const gen = model.admit(now); // undefined when refused
 * model.finish(gen!, 'failure', startedAt, now);
 * model.state; // 'closed' | 'open' | 'half-open'
 * ```
 */
export class CircuitBreakerModel {
  state: 'closed' | 'open' | 'half-open' = 'closed';
  gen = 0;
  #openUntil = 0;
  #halfSince = 0;
  #trials = 0;
  #ok = 0;
  #bad = 0;
  #window: { failed: boolean; slow: boolean }[] = [];

  constructor(readonly config: BreakerModelConfig) {}

  /** Applies what time alone changes (open → half-open, a half-open that lasted too long → open). */
  tick(now: number): void {
    if (this.state === 'open' && now >= this.#openUntil) this.#half(now);
    else if (this.state === 'half-open' && now - this.#halfSince >= this.config.maxHalfOpenMs) {
      this.#open(now);
      if (now >= this.#openUntil) this.#half(now);
    }
  }

  #open(now: number): void {
    this.#openUntil = now + this.config.openMs;
    this.state = 'open';
    this.gen++;
  }

  #half(now: number): void {
    this.state = 'half-open';
    this.#halfSince = now;
    this.#trials = this.#ok = this.#bad = 0;
    this.gen++;
  }

  #close(): void {
    this.state = 'closed';
    this.#window = [];
    this.gen++;
  }

  /** Admits a call at `now`: its generation, or `undefined` when refused. */
  admit(now: number): number | undefined {
    this.tick(now);
    if (this.state === 'closed') return this.gen;
    if (this.state === 'half-open' && this.#trials < this.config.permitted) {
      this.#trials++;
      return this.gen;
    }
    return undefined;
  }

  #trips(): boolean {
    const w = this.config.window;
    if (w.kind === 'consecutive') return this.#run() >= w.n;
    const last = this.#window.slice(-w.size);
    if (last.length < w.minimumCalls) return false;
    const failures = last.filter((x) => x.failed).length;
    const slow = last.filter((x) => x.slow).length;
    return failures * 100 >= this.config.failureRate * last.length || slow * 100 >= this.config.slowRate * last.length;
  }

  #run(): number {
    let run = 0;
    for (let i = this.#window.length - 1; i >= 0 && this.#window[i]!.failed; i--) run++;
    return run;
  }

  /** The counts the breaker reports. */
  counts(): { calls: number; failures: number; slow: number } {
    const w = this.config.window;
    if (w.kind === 'consecutive') return { calls: this.#window.length, failures: this.#run(), slow: 0 };
    const last = this.#window.slice(-w.size);
    return {
      calls: last.length,
      failures: last.filter((x) => x.failed).length,
      slow: last.filter((x) => x.slow).length,
    };
  }

  /** Ms until a call may be admitted. */
  retryAfter(now: number): number {
    if (this.state === 'open') return this.#openUntil - now;
    if (this.state === 'half-open' && this.#trials >= this.config.permitted) {
      return Math.max(0, this.#halfSince + this.config.maxHalfOpenMs - now);
    }
    return 0;
  }

  /** Records how a call admitted in generation `gen`, started at `started`, ended at `now`. */
  finish(gen: number, cls: CallClass, started: number, now: number): void {
    if (gen !== this.gen || this.state === 'open') return;
    if (this.state === 'half-open') {
      if (cls === 'ignore') this.#trials--;
      else if (cls === 'success') {
        if (++this.#ok >= this.config.successThreshold) this.#close();
      } else if (this.config.permitted - ++this.#bad < this.config.successThreshold) this.#open(now);
      return;
    }
    if (cls === 'ignore') return;
    const slow =
      this.config.window.kind !== 'consecutive' &&
      this.config.slowMs !== undefined &&
      now - started >= this.config.slowMs;
    this.#window.push({ failed: cls === 'failure', slow });
    if ((cls === 'failure' || slow) && this.#trips()) this.#open(now);
  }
}

/**
 * Configurations for {@link CircuitBreakerModel}: small windows and times, so generated runs trip and recover often.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(breakerModelConfig(), circuitBreakerCommands(), (config, cmds) => { ... }));
 * ```
 */
export function breakerModelConfig(): fc.Arbitrary<BreakerModelConfig> {
  return fc
    .record({
      window: fc.oneof(
        fc.record({ kind: fc.constant('consecutive' as const), n: fc.integer({ min: 1, max: 4 }) }),
        fc.record({
          kind: fc.constant('count' as const),
          size: fc.integer({ min: 1, max: 6 }),
          minimumCalls: fc.integer({ min: 1, max: 6 }),
        }),
      ),
      failureRate: fc.integer({ min: 1, max: 100 }),
      slowMs: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
      slowRate: fc.integer({ min: 1, max: 100 }),
      openMs: fc.integer({ min: 1, max: 50 }),
      permitted: fc.integer({ min: 1, max: 3 }),
      successThreshold: fc.integer({ min: 1, max: 3 }),
      maxHalfOpenMs: fc.integer({ min: 1, max: 80 }),
    })
    .map((c) => ({ ...c, successThreshold: Math.min(c.successThreshold, c.permitted) }));
}

/**
 * The `circuitBreaker()` options that mean the same as a model configuration.
 *
 * @example
 * ```ts
 * const breaker = circuitBreaker({ ...breakerOptionsFor(config), clock });
 * ```
 */
export function breakerOptionsFor(c: BreakerModelConfig): CircuitBreakerOptions {
  return {
    window:
      c.window.kind === 'consecutive'
        ? consecutive(c.window.n)
        : countWindow({ size: c.window.size, minimumCalls: c.window.minimumCalls }),
    failureRateThreshold: c.failureRate / 100,
    ...(c.slowMs === undefined ? {} : { slowCallDurationMs: c.slowMs }),
    slowCallRateThreshold: c.slowRate / 100,
    openMs: c.openMs,
    halfOpen: { permittedCalls: c.permitted, successThreshold: c.successThreshold, maxHalfOpenMs: c.maxHalfOpenMs },
  };
}

/** The system under test of {@link circuitBreakerCommands}: a breaker on a clock moved by hand. */
export interface BreakerUnderTest {
  readonly breaker: CircuitBreakerPolicy;
  readonly clock: Clock;
  /** Moves the clock (synchronously: the breaker reads time, it sets no timers). */
  advance(ms: number): void;
  /** Calls admitted and not finished, with their model generation and start time. */
  readonly inFlight: { permit: CircuitPermit; gen: number; started: number }[];
}

/**
 * A clock moved by hand, synchronously, for primitives that read time and arm no timers (the breaker, the memory
 * rate limiter): arming one throws, so a test also proves none is armed.
 *
 * @example
 * ```ts
 * const { clock, advance } = manualClock();
 * ```
 */
export function manualClock(start = 0): {
  /** The clock to hand the system under test. */
  clock: Clock;
  /** Moves its time forward by `ms`. */
  advance: (ms: number) => void;
} {
  let t = start;
  const clock: Clock = {
    now: () => t,
    setTimeout: () => {
      throw new Error('manualClock: this primitive armed a timer; use a VirtualClock');
    },
    clearTimeout: () => {},
  };
  return { clock, advance: (ms) => void (t += ms) };
}

type BreakerCommand = fc.Command<CircuitBreakerModel, BreakerUnderTest>;

/** Compares the breaker with the model after a command: state, counts, and the time until admission. */
function compare(model: CircuitBreakerModel, real: BreakerUnderTest, what: string): void {
  const now = real.clock.now();
  model.tick(now);
  const problems: string[] = [];
  if (real.breaker.state !== model.state) problems.push(`state ${real.breaker.state}, model ${model.state}`);
  const counts = model.counts();
  const got = real.breaker.counts;
  if (got.calls !== counts.calls || got.failures !== counts.failures || got.slow !== counts.slow) {
    problems.push(`counts ${JSON.stringify(got)}, model ${JSON.stringify(counts)}`);
  }
  if (real.breaker.retryAfterMs !== model.retryAfter(now)) {
    problems.push(`retryAfterMs ${real.breaker.retryAfterMs}, model ${model.retryAfter(now)}`);
  }
  if (problems.length > 0) throw new Error(`after ${what} at ${now}: ${problems.join('; ')}`);
}

class Start implements BreakerCommand {
  check = () => true;
  run(model: CircuitBreakerModel, real: BreakerUnderTest): void {
    const now = real.clock.now();
    const permit = real.breaker.tryAcquire();
    const gen = model.admit(now);
    if ((permit !== undefined) !== (gen !== undefined)) {
      throw new Error(`admission at ${now}: breaker ${permit ? 'admitted' : 'refused'}, model the opposite`);
    }
    if (permit !== undefined && gen !== undefined) real.inFlight.push({ permit, gen, started: now });
    compare(model, real, 'start');
  }
  toString = () => 'start';
}

class Finish implements BreakerCommand {
  constructor(
    readonly pick: number,
    readonly cls: CallClass,
  ) {}
  check = () => true;
  run(model: CircuitBreakerModel, real: BreakerUnderTest): void {
    if (real.inFlight.length === 0) return;
    const [call] = real.inFlight.splice(this.pick % real.inFlight.length, 1);
    if (this.cls === 'success') call!.permit.success();
    else if (this.cls === 'failure') call!.permit.failure(new Error('failed'));
    else call!.permit.ignore();
    model.finish(call!.gen, this.cls, call!.started, real.clock.now());
    compare(model, real, `finish ${this.cls}`);
  }
  toString = () => `finish(${this.pick}, ${this.cls})`;
}

class Advance implements BreakerCommand {
  constructor(readonly ms: number) {}
  check = () => true;
  run(model: CircuitBreakerModel, real: BreakerUnderTest): void {
    real.advance(this.ms);
    compare(model, real, `advance ${this.ms}`);
  }
  toString = () => `advance(${this.ms})`;
}

/**
 * fast-check commands that drive a circuit breaker and {@link CircuitBreakerModel} side by side (start calls,
 * finish any in-flight call as success, failure or ignored, advance time), comparing state, counts and
 * `retryAfterMs` after each. Weighted toward many overlapping calls. Use with `fc.modelRun`.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(breakerModelConfig(), circuitBreakerCommands(), (config, cmds) => {
 *   const { clock, advance } = manualClock();
 *   const breaker = myBreakerFactory({ ...breakerOptionsFor(config), clock });
 *   fc.modelRun(() => ({ model: new CircuitBreakerModel(config), real: { breaker, clock, advance, inFlight: [] } }), cmds);
 * }));
 * ```
 */
export function circuitBreakerCommands(maxCommands = 150): fc.Arbitrary<Iterable<BreakerCommand>> {
  const finish = fc
    .record({ pick: fc.nat(), cls: fc.constantFrom<CallClass>('success', 'success', 'failure', 'failure', 'ignore') })
    .map(({ pick, cls }) => new Finish(pick, cls));
  return fc.commands(
    [
      fc.constant(new Start()),
      fc.constant(new Start()),
      finish,
      finish,
      fc.integer({ min: 1, max: 40 }).map((ms) => new Advance(ms)),
    ],
    { maxCommands },
  );
}
