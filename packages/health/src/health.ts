import { z } from 'zod';
import { BulwarkConfigError, systemClock, type Clock } from '@bulwark/core';
import { bulwarkChannel, clockSchema, Emitter, isPromiseLike, parseOptions } from '@bulwark/core/internal';
import { checkSchema, type HealthCheck, type ParsedCheck, type ProbeTag } from './check.js';
import { CheckRunner, type CheckOutcome } from './check-runner.js';
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
  readonly #runners: readonly CheckRunner[];
  readonly #byName: ReadonlyMap<string, CheckRunner>;
  readonly #byProbe: Readonly<Record<ProbeName, readonly CheckRunner[]>>;
  readonly #checked = new Emitter<CheckEvent>(bulwarkChannel('health', 'check'));
  readonly #clock: Clock;
  #shuttingDown = false;
  readonly #lastReports: Partial<Record<ProbeName, HealthReport>> = {};

  /** Listens to every finished check run. Returns an unsubscribe function. */
  readonly onCheck = this.#checked.on;

  /** @internal Use {@link createHealth}. */
  constructor(checks: readonly ParsedCheck[], meta: Health['meta'], clock: Clock) {
    this.meta = meta;
    this.#clock = clock;
    const report = (outcome: CheckOutcome) => {
      if (this.#checked.active) this.#checked.emit(outcome);
    };
    this.#runners = checks.map((check) => new CheckRunner(check, clock, report));
    this.#byName = new Map(this.#runners.map((r) => [r.check.name, r]));
    const tagged = (tag: ProbeTag) => this.#runners.filter((r) => r.check.tags.includes(tag));
    this.#byProbe = { live: tagged('live'), ready: tagged('ready'), startup: tagged('startup'), all: this.#runners };
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
    if (last !== undefined && last.shuttingDown === this.#shuttingDownFor(probe)) {
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
      const report: HealthReport = {
        probe,
        status: shuttingDown ? 'fail' : aggregateStatus(done),
        results: done,
        excluded,
        unknownExcludes,
        shuttingDown,
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

  /** A check's definition, defaults applied, by name. */
  describe(name: string): HealthCheck | undefined {
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

  /** Stops background checks (their timers are unref'd, so this is only needed to stop the work itself). */
  close(): void {
    for (const runner of this.#runners) runner.close();
  }
}

/**
 * Creates a set of health checks with the probes Kubernetes uses (`live`, `ready`, `startup`, chosen per check by
 * `tags`) and the draft-inadarei-api-health-check-06 document over all of them.
 *
 * @throws {@link BulwarkConfigError} for bad options or checks (each field named), or duplicate check names.
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
