import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { z } from 'zod';
import { systemClock, TimeoutError, type Clock } from '@bulwark/core';
import {
  bulwarkChannel,
  clockSchema,
  durationMsSchema,
  Emitter,
  functionSchema,
  methodsSchema,
  parseOptions,
  unrefTimer,
} from '@bulwark/core/internal';
import type { Health } from './health.js';

/** A step of shutdown that must finish in time: close a database pool, flush logs, leave a cluster. */
export interface ShutdownHook {
  readonly name: string;
  /** `signal` aborts when the hook's time is up. */
  run(signal: AbortSignal): unknown;
  /** Default 5000. */
  readonly timeoutMs?: number;
}

/** A Node HTTP server, or a Fastify instance (closed with `close()` so its `onClose` hooks run). */
export type ShutdownTarget =
  | Server
  | {
      readonly server: Server;
      /** Stops the framework (Fastify's `close()`): its server stops accepting, its hooks run. */
      close(): PromiseLike<unknown>;
    };

/** Options for {@link gracefulShutdown}. */
export interface GracefulShutdownOptions {
  /** Its readiness fails the moment shutdown begins. */
  health?: Health;
  /** Signals that start shutdown. Default `['SIGTERM', 'SIGINT']`; `[]` for none (call `shutdown()` yourself). */
  signals?: readonly NodeJS.Signals[];
  /**
   * How long to keep serving after readiness fails, so load balancers and Kubernetes endpoints notice before the
   * servers stop accepting. Default 5000 in Kubernetes (`KUBERNETES_SERVICE_HOST` set), else 0.
   */
  readinessDelayMs?: number;
  /** How long in-flight requests may take to finish; then their connections are closed. Default 10000. */
  drainTimeoutMs?: number;
  /** Run in order after the drain, each under its own timeout. */
  hooks?: readonly ShutdownHook[];
  /** Exit with code 1 if shutdown has not finished after this long. Default 30000 (Kubernetes' grace period). */
  forceExitMs?: number;
  /** What ends the process: `process.exit` by default; `false` to leave the process running (tests, embedding). */
  exit?: false | ((code: number) => void);
  clock?: Clock;
}

/** What shutdown did, step by step (also published as events). */
export interface ShutdownEvent {
  readonly step: 'begin' | 'delay' | 'drain' | 'hook' | 'exit';
  /** The signal or reason that began shutdown (`begin`), or the hook's name (`hook`). */
  readonly name?: string;
  readonly durationMs?: number;
  /** False when the step ran out of time or threw. */
  readonly ok?: boolean;
  readonly error?: unknown;
  /** Exit code (`exit`). */
  readonly code?: number;
}

/** The outcome of a shutdown. */
export interface ShutdownReport {
  /** 0 when it finished in time, 1 when `forceExitMs` passed first. */
  readonly code: 0 | 1;
  readonly steps: readonly ShutdownEvent[];
}

const optionsSchema = z
  .object({
    health: methodsSchema<Health>(['beginShutdown'], 'expected a Health from createHealth()').optional(),
    signals: z
      .array(z.string().regex(/^SIG[A-Z0-9]+$/, { message: 'expected a signal name like "SIGTERM"' }))
      .default(['SIGTERM', 'SIGINT']),
    readinessDelayMs: z.number().int().min(0).optional(),
    drainTimeoutMs: durationMsSchema.default(10_000),
    hooks: z
      .array(
        z
          .object({
            name: z.string().min(1),
            run: functionSchema<ShutdownHook['run']>(),
            timeoutMs: durationMsSchema.default(5000),
          })
          .strict(),
      )
      .default([]),
    forceExitMs: durationMsSchema.default(30_000),
    exit: z.union([z.literal(false), functionSchema<(code: number) => void>()]).optional(),
    clock: clockSchema.default(() => systemClock),
  })
  .strict();

type Parsed = z.output<typeof optionsSchema>;

const isServer = (s: unknown) =>
  typeof (s as Server | null)?.close === 'function' && typeof (s as Server).closeIdleConnections === 'function';

const targetsSchema = z.array(
  z.custom<ShutdownTarget>((t) => isServer(t) || isServer((t as { server?: unknown } | null)?.server), {
    message: 'expected a Node HTTP server (what listen() returns) or a Fastify instance',
  }),
);

/** Tracks one server's requests so a drain can close keep-alive connections as soon as they go idle. */
class ServerDrain {
  readonly server: Server;
  readonly #close: () => PromiseLike<unknown> | undefined;
  readonly #inFlight = new Set<ServerResponse>();
  #draining = false;

  constructor(target: ShutdownTarget) {
    if ('server' in target) {
      this.server = target.server;
      this.#close = () => target.close();
    } else {
      this.server = target;
      this.#close = () => undefined;
    }
    // First, so the response is marked before the app's handler can send headers.
    this.server.prependListener('request', this.#onRequest);
  }

  readonly #onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
    if (this.#draining) res.setHeader('connection', 'close');
    this.#inFlight.add(res);
    res.once('close', () => {
      this.#inFlight.delete(res);
      // Its connection may be idle now: close it rather than wait for the keep-alive timeout (nodejs/node#2642).
      if (this.#draining) setImmediate(() => this.server.closeIdleConnections());
    });
  };

  /** Stops accepting, closes idle connections, lets in-flight requests finish; true if all did in time. */
  async drain(clock: Clock, timeoutMs: number): Promise<boolean> {
    this.#draining = true;
    for (const res of this.#inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    const closed = new Promise<void>((resolve) => {
      const custom = this.#close();
      if (custom !== undefined)
        void Promise.resolve(custom).then(
          () => resolve(),
          () => resolve(),
        );
      else this.server.close(() => resolve()); // an error means it was not listening: drained too
    });
    this.server.closeIdleConnections();
    let timer: unknown;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = clock.setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = await Promise.race([closed.then(() => true), timedOut]);
    clock.clearTimeout(timer);
    if (!drained) this.server.closeAllConnections();
    return drained;
  }

  dispose(): void {
    this.server.removeListener('request', this.#onRequest);
  }
}

/**
 * Graceful shutdown, as {@link gracefulShutdown} returns it: `shutdown()` runs the sequence once (later calls get
 * the same promise); `dispose()` removes the signal and request listeners.
 */
export class GracefulShutdown {
  readonly #o: Parsed;
  readonly #drains: readonly ServerDrain[];
  readonly #steps = new Emitter<ShutdownEvent>(bulwarkChannel('health', 'shutdown'));
  readonly #exit: ((code: number) => void) | undefined;
  #running: Promise<ShutdownReport> | undefined = undefined;

  /** Listens to each step as it ends. Returns an unsubscribe function. */
  readonly onStep = this.#steps.on;

  /** @internal Use {@link gracefulShutdown}. */
  constructor(targets: readonly ShutdownTarget[], o: Parsed, exit: ((code: number) => void) | undefined) {
    this.#o = o;
    this.#exit = exit;
    this.#drains = targets.map((t) => new ServerDrain(t));
    for (const signal of o.signals) process.on(signal, this.#onSignal);
  }

  /** True once shutdown has begun. */
  get shuttingDown(): boolean {
    return this.#running !== undefined;
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    // A second signal while shutting down (Ctrl-C twice): stop waiting.
    if (this.#running !== undefined) this.#exit?.(1);
    else void this.shutdown(signal);
  };

  /**
   * Runs the shutdown sequence: readiness fails, the delay passes, servers drain, hooks run, the process exits
   * (unless `exit: false`). Resolves with what happened; never rejects.
   *
   * @example
   * ```ts
   * process.on('uncaughtException', (err) => { logger.fatal(err); void shutdown.shutdown('uncaughtException'); });
   * ```
   */
  shutdown(reason = 'shutdown()'): Promise<ShutdownReport> {
    return (this.#running ??= this.#run(reason));
  }

  /** Removes signal handlers and request listeners (for tests, or to hand shutdown to other code). */
  dispose(): void {
    for (const signal of this.#o.signals) process.removeListener(signal, this.#onSignal);
    for (const drain of this.#drains) drain.dispose();
  }

  async #run(reason: string): Promise<ShutdownReport> {
    const { clock } = this.#o;
    const steps: ShutdownEvent[] = [];
    const record = (event: ShutdownEvent) => {
      steps.push(event);
      if (this.#steps.active) this.#steps.emit(event);
    };
    this.#o.health?.beginShutdown();
    record({ step: 'begin', name: reason });

    let forced = false;
    const force = new Promise<void>((resolve) => {
      const timer = clock.setTimeout(() => {
        forced = true;
        resolve();
      }, this.#o.forceExitMs);
      unrefTimer(timer);
    });
    const sequence = this.#sequence(record);
    await Promise.race([sequence, force]);
    const code = forced ? 1 : 0;
    record({ step: 'exit', code, ok: !forced });
    this.dispose();
    this.#exit?.(code);
    return { code, steps };
  }

  async #sequence(record: (event: ShutdownEvent) => void): Promise<void> {
    const { clock } = this.#o;
    const delayMs = this.#o.readinessDelayMs ?? (process.env.KUBERNETES_SERVICE_HOST ? 5000 : 0);
    if (delayMs > 0) {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, delayMs));
      record({ step: 'delay', durationMs: delayMs, ok: true });
    }
    let started = clock.now();
    const drained = await Promise.all(this.#drains.map((d) => d.drain(clock, this.#o.drainTimeoutMs)));
    record({ step: 'drain', durationMs: clock.now() - started, ok: drained.every(Boolean) });
    for (const hook of this.#o.hooks) {
      started = clock.now();
      const { ok, error } = await runHook(hook.run, hook.timeoutMs, clock);
      record({ step: 'hook', name: hook.name, durationMs: clock.now() - started, ok, error });
    }
  }
}

/** Runs a hook under its timeout: never rejects, never waits past the timeout. */
async function runHook(
  run: ShutdownHook['run'],
  timeoutMs: number,
  clock: Clock,
): Promise<{ ok: boolean; error?: unknown }> {
  const controller = new AbortController();
  let timer: unknown;
  const timedOut = new Promise<{ ok: boolean; error: unknown }>((resolve) => {
    timer = clock.setTimeout(() => {
      const error = new TimeoutError(timeoutMs);
      controller.abort(error);
      resolve({ ok: false, error });
    }, timeoutMs);
  });
  const ran = (async () => {
    try {
      await run(controller.signal);
      return { ok: true };
    } catch (error) {
      return { ok: false, error };
    }
  })();
  const result = await Promise.race([ran, timedOut]);
  clock.clearTimeout(timer);
  return result;
}

/**
 * Graceful shutdown for HTTP servers (Node's, or what Express's and Koa's `listen()` return, or a Fastify
 * instance): on SIGTERM/SIGINT readiness fails at once; after `readinessDelayMs` the servers stop accepting, idle
 * keep-alive connections close (and busy ones as soon as their response ends), in-flight requests finish within
 * `drainTimeoutMs`; hooks run in order, each under its timeout; the process exits 0, or 1 if `forceExitMs` passes
 * first. A second signal exits at once with 1.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * const server = app.listen(3000);
 * gracefulShutdown([server], {
 *   health,
 *   readinessDelayMs: 5000,
 *   hooks: [{ name: 'postgres', run: () => pool.end(), timeoutMs: 3000 }],
 * });
 * ```
 */
export function gracefulShutdown(
  targets: readonly ShutdownTarget[],
  options: GracefulShutdownOptions = {},
): GracefulShutdown {
  parseOptions(targetsSchema, targets, 'gracefulShutdown() servers');
  const o = parseOptions(optionsSchema, options, 'gracefulShutdown()');
  const exit = options.exit === false ? undefined : (options.exit ?? ((code: number) => process.exit(code)));
  return new GracefulShutdown(targets, o, exit);
}
