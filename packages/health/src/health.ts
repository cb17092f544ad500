import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { BulwarkConfigError, systemClock, type Clock } from '@bulwark/core';
import { bulwarkChannel, clockSchema, Emitter, isPromiseLike, parseOptions } from '@bulwark/core/internal';
import { toNodeEndpoints } from '@bulwark/http';
import { checkSchema, type HealthCheck, type ParsedCheck, type ProbeTag } from './check.js';
import { CheckRunner, type CheckOutcome } from './check-runner.js';
import { healthEndpoints, type HealthEndpointsOptions } from './health-endpoints.js';
import { aggregateStatus, type HealthStatus } from './status.js';

/** Options for {@link createHealth}. */
export interface HealthOptions {
  /** The checks; names must be unique. */
  checks?: readonly HealthCheck[];
  /** Public version of the service (draft `version`). */
  version?: string | undefined;
  /** Release of the service (draft `releaseId`), e.g. a git SHA; `undefined` (an unset variable) leaves it out. */
  releaseId?: string | undefined;
  /** Unique id of the service (draft `serviceId`). */
  serviceId?: string | undefined;
  /** Human-friendly description of the service (draft `description`). */
  description?: string | undefined;
  /** Time source for timeouts, caching and background runs. Default: the system clock. */
  clock?: Clock;
}

/** A probe server started by {@link Health.listen}. */
export interface HealthServer {
  readonly server: Server;
  /** The port it listens on (the one asked for, or the one picked for port 0). */
  readonly port: number;
  /** Stops listening and closes its connections. */
  close(): Promise<void>;
}

/** Which checks a report covers: one probe's (by tag) or all of them (the `/health` document). */
export type ProbeName = ProbeTag | 'all';

/** Narrows a report. */
export interface ReportOptions {
  /** Check names to leave out (they are not run). */
  exclude?: readonly string[];
}

/** The results of one probe. */
export interface HealthReport {
  readonly probe: ProbeName;
  readonly status: HealthStatus;
  /** The results of the checks that ran, in the order the checks were given. */
  readonly results: readonly CheckOutcome[];
  /** Names left out on request. */
  readonly excluded: readonly string[];
  /** Names asked to be left out that the probe does not have. */
  readonly unknownExcludes: readonly string[];
  /** True when the report failed because shutdown has begun (readiness and the full document only). */
  readonly shuttingDown: boolean;
  /** True when the report failed because the service signalled it is not ready (`signalNotReady()`). */
  readonly notReady: boolean;
}

/** Published when a check run finishes (`bulwark:health:check`). */
export type CheckEvent = CheckOutcome;

const optionsSchema = z
  .object({
    checks: z.array(z.unknown()).default([]),
    version: z.string().optional(),
    releaseId: z.string().optional(),
    serviceId: z.string().optional(),
    description: z.string().optional(),
    clock: clockSchema.default(() => systemClock),
  })
  .strict();

const NO_NAMES: readonly string[] = Object.freeze([]);

/**
 * A set of health checks and the probes over them. Build one with {@link createHealth}; mount its endpoints with
 * `healthRoutes()` from `@bulwark/health/express`, `/fastify` or `/koa`.
 */
export class Health {
  /** Draft metadata for the `/health` document. */
  readonly meta: Readonly<Pick<HealthOptions, 'version' | 'releaseId' | 'serviceId' | 'description'>>;
  #runners: readonly CheckRunner[] = [];
  #byName: ReadonlyMap<string, CheckRunner> = new Map();
  #byProbe: Readonly<Record<ProbeName, readonly CheckRunner[]>> = { live: [], ready: [], startup: [], all: [] };
  readonly #report: (outcome: CheckOutcome) => void;
  readonly #checked = new Emitter<CheckEvent>(bulwarkChannel('health', 'check'));
  readonly #clock: Clock;
  #shuttingDown = false;
  #notReady: string | undefined = undefined;
  #lastReports: Partial<Record<ProbeName, HealthReport>> = {};
  readonly #servers = new Set<Server>();

  /** Listens to every finished check run. Returns an unsubscribe function. */
  readonly onCheck = this.#checked.on;

  /** @internal Use {@link createHealth}. */
  constructor(checks: readonly ParsedCheck[], meta: Health['meta'], clock: Clock) {
    this.meta = meta;
    this.#clock = clock;
    this.#report = (outcome: CheckOutcome) => {
      if (this.#checked.active) this.#checked.emit(outcome);
    };
    this.#index(checks.map((check) => new CheckRunner(check, clock, this.#report)));
  }

  /** Rebuilds the lookups over `runners` (in order) and forgets cached reports, whose indices they were. */
  #index(runners: readonly CheckRunner[]): void {
    this.#runners = runners;
    this.#byName = new Map(runners.map((r) => [r.check.name, r]));
    const tagged = (tag: ProbeTag) => runners.filter((r) => r.check.tags.includes(tag));
    this.#byProbe = { live: tagged('live'), ready: tagged('ready'), startup: tagged('startup'), all: runners };
    this.#lastReports = {};
  }

  /**
   * Adds a check after creation (a connection pool made later, a plugin loaded at run time). The check is validated
   * as in `createHealth`; a name already in use is refused.
   *
   * @throws {@link @bulwark/core!BulwarkConfigError} for a bad check or a duplicate name.
   *
   * @example
   * ```ts
   * health.addCheck(pingCheck({ name: 'redis', run: () => redis.ping() }));
   * ```
   */
  addCheck(check: HealthCheck): void {
    const parsed = parseOptions(checkSchema, check, 'addCheck()');
    if (this.#byName.has(parsed.name)) {
      throw new BulwarkConfigError('addCheck()', [{ field: 'name', message: `duplicate check name "${parsed.name}"` }]);
    }
    this.#index([...this.#runners, new CheckRunner(parsed, this.#clock, this.#report)]);
  }

  /**
   * Removes a check by name, stopping its background runs. Returns false when there is none by that name.
   *
   * @example
   * ```ts
   * health.removeCheck('redis');
   * ```
   */
  removeCheck(name: string): boolean {
    const runner = this.#byName.get(name);
    if (runner === undefined) return false;
    runner.close();
    this.#index(this.#runners.filter((r) => r !== runner));
    return true;
  }

  /** The check names a probe covers. */
  checkNames(probe: ProbeName = 'all'): readonly string[] {
    return this.#byProbe[probe].map((r) => r.check.name);
  }

  /** The check by that name, if the probe covers it. */
  has(name: string, probe: ProbeName = 'all'): boolean {
    const runner = this.#byName.get(name);
    return runner !== undefined && (probe === 'all' || runner.check.tags.includes(probe));
  }

  /**
   * Runs (or reads cached results of) a probe's checks concurrently and aggregates them. Answers synchronously when
   * every result is known now (cached, background or synchronous checks), so a probe of cached checks costs no
   * promise.
   *
   * @example
   * ```ts
   * const report = await health.report('ready', { exclude: ['cache'] });
   * if (report.status === 'fail') console.log(report.results.filter((r) => r.status === 'fail'));
   * ```
   */
  report(probe: ProbeName, options?: ReportOptions): HealthReport | Promise<HealthReport> {
    const exclude = options?.exclude !== undefined && options.exclude.length > 0 ? options.exclude : undefined;
    let runners = this.#byProbe[probe];
    let excluded = NO_NAMES;
    let unknownExcludes = NO_NAMES;
    if (exclude !== undefined) {
      runners = runners.filter((r) => !exclude.includes(r.check.name));
      excluded = this.#byProbe[probe].filter((r) => exclude.includes(r.check.name)).map((r) => r.check.name);
      unknownExcludes = [...new Set(exclude.filter((name) => !excluded.includes(name)))];
    }
    const now = this.#clock.now();
    // The common probe (no exclude, every result already known and unchanged since the last one): reuse the last
    // report, so a probe of cached checks allocates nothing.
    const last = exclude === undefined ? this.#lastReports[probe] : undefined;
    let i = 0;
    let changed: CheckOutcome | Promise<CheckOutcome> | undefined;
    if (
      last !== undefined &&
      last.shuttingDown === this.#shuttingDownFor(probe) &&
      last.notReady === this.#notReadyFor(probe)
    ) {
      for (; i < runners.length; i++) {
        const result = runners[i]!.result(now);
        if (result !== last.results[i]) {
          changed = result; // asked once: a check may have just run
          break;
        }
      }
      if (i === runners.length) return last;
    }
    const results: (CheckOutcome | Promise<CheckOutcome>)[] = last === undefined ? [] : last.results.slice(0, i);
    let pending = false;
    for (; i < runners.length; i++) {
      const result = changed ?? runners[i]!.result(now);
      changed = undefined;
      if (isPromiseLike(result)) pending = true;
      results.push(result);
    }
    const finish = (done: readonly CheckOutcome[]): HealthReport => {
      const shuttingDown = this.#shuttingDownFor(probe);
      const notReady = this.#notReadyFor(probe);
      const report: HealthReport = {
        probe,
        status: shuttingDown || notReady ? 'fail' : aggregateStatus(done),
        results: done,
        excluded,
        unknownExcludes,
        shuttingDown,
        notReady,
      };
      if (exclude === undefined) this.#lastReports[probe] = report;
      return report;
    };
    return pending
      ? Promise.all(results.map((r) => Promise.resolve(r))).then(finish)
      : finish(results as CheckOutcome[]);
  }

  /** Shutdown fails readiness and the full document; liveness and startup keep reporting the checks. */
  #shuttingDownFor(probe: ProbeName): boolean {
    return this.#shuttingDown && probe !== 'live' && probe !== 'startup';
  }

  /** A signalled "not ready" fails the same probes as shutdown. */
  #notReadyFor(probe: ProbeName): boolean {
    return this.#notReady !== undefined && probe !== 'live' && probe !== 'startup';
  }

  /**
   * Fails readiness (and the full document) until {@link signalReady}, whatever the checks say: while warming a
   * cache, or during a maintenance window (lightship's `signalNotReady`). Liveness is untouched.
   *
   * @example
   * ```ts
   * health.signalNotReady('warming the cache');
   * await warmCache();
   * health.signalReady();
   * ```
   */
  signalNotReady(reason = 'not ready'): void {
    this.#notReady = reason;
  }

  /** Undoes {@link signalNotReady}: readiness follows the checks again (shutdown, once begun, still fails it). */
  signalReady(): void {
    this.#notReady = undefined;
  }

  /** Why readiness is held failed by {@link signalNotReady}, or `undefined`. */
  get notReadyReason(): string | undefined {
    return this.#notReady;
  }

  /** A check's definition, defaults applied, by name. */
  describe(name: string): (HealthCheck & { readonly componentType: string }) | undefined {
    return this.#byName.get(name)?.check;
  }

  /** The result of one check (run or cached), or `undefined` when the probe has no such check. */
  checkOne(name: string, probe: ProbeName = 'all'): CheckOutcome | Promise<CheckOutcome> | undefined {
    return this.has(name, probe) ? this.#byName.get(name)!.result() : undefined;
  }

  /** True once {@link Health.beginShutdown} was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Fails readiness (and the full document) from now on, whatever the checks say, so load balancers stop sending
   * traffic. `gracefulShutdown` calls it on a signal; liveness keeps passing so the pod is not restarted mid-drain.
   */
  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  /**
   * Serves the health endpoints on a port of their own, apart from the application's server (lightship's and
   * terminus's probe port): Kubernetes probes keep answering while the application's port is saturated or drained.
   * `options` are {@link healthEndpoints}'s. Resolves once listening; {@link close} closes it.
   *
   * @example
   * ```ts
   * const probes = await health.listen(9000);
   * // livenessProbe: httpGet { port: 9000, path: /livez }
   * ```
   */
  async listen(port: number, options: HealthEndpointsOptions & { host?: string } = {}): Promise<HealthServer> {
    const { host, ...endpointOptions } = options;
    const server = createServer(toNodeEndpoints(healthEndpoints(this, endpointOptions)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#servers.add(server);
    return {
      server,
      port: (server.address() as AddressInfo).port,
      close: () => this.#closeServer(server),
    };
  }

  #closeServer(server: Server): Promise<void> {
    this.#servers.delete(server);
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Stops background checks (their timers are unref'd) and closes the servers {@link listen} started. */
  close(): Promise<void> {
    for (const runner of this.#runners) runner.close();
    return Promise.all([...this.#servers].map((server) => this.#closeServer(server))).then(() => undefined);
  }
}

/**
 * Creates a set of health checks with the probes Kubernetes uses (`live`, `ready`, `startup`, chosen per check by
 * `tags`) and the draft-inadarei-api-health-check-06 document over all of them.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options or checks (each field named), or duplicate check names.
 *
 * @example
 * ```ts
 * import { createHealth, eventLoopDelayCheck, pingCheck } from '@bulwark/health';
 * import { healthRoutes } from '@bulwark/health/express';
 * const health = createHealth({
 *   version: '1',
 *   releaseId: process.env.GIT_SHA,
 *   checks: [
 *     eventLoopDelayCheck({ warnMs: 100, failMs: 500, tags: ['live', 'ready'] }),
 *     pingCheck({ name: 'postgres', componentType: 'datastore', run: () => pool.query('SELECT 1') }),
 *   ],
 * });
 * app.use(healthRoutes(health));
 * ```
 */
export function createHealth(options: HealthOptions = {}): Health {
  const o = parseOptions(optionsSchema, options, 'createHealth()');
  // Each check is validated on its own, its fields named from the options down (`checks.2.name`).
  const checks: ParsedCheck[] = o.checks.map((check, i) =>
    parseOptions(checkSchema, check, 'createHealth()', ['checks', String(i)]),
  );
  const seen = new Set<string>();
  for (const check of checks) {
    if (seen.has(check.name)) {
      throw new BulwarkConfigError('createHealth()', [
        { field: 'checks', message: `duplicate check name "${check.name}"` },
      ]);
    }
    seen.add(check.name);
  }
  return new Health(
    checks,
    { version: o.version, releaseId: o.releaseId, serviceId: o.serviceId, description: o.description },
    o.clock,
  );
}
