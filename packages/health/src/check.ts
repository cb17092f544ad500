import { z } from 'zod';
import { durationMsSchema, functionSchema } from '@bulwark/core/internal';
import type { HealthStatus } from './status.js';

/** The probes a check can belong to. */
export type ProbeTag = 'live' | 'ready' | 'startup';

/** What a check's `run` may return beyond a plain boolean: a status plus the draft's optional fields. */
export interface CheckResult {
  /** `pass` / `warn` / `fail`, or the draft's aliases (`ok`, `up`, `error`, `down`), any case. */
  readonly status: HealthStatus | (string & {});
  /** A measurement, e.g. a response time or a utilisation. */
  readonly observedValue?: unknown;
  /** Its unit, e.g. `ms`, `percent`, `bytes`. */
  readonly observedUnit?: string;
  /** Why the check is not passing (shown only with `exposeDetails`). */
  readonly output?: string;
  /** URI templates of endpoints affected by a failure. */
  readonly affectedEndpoints?: readonly string[];
  /** Links about the component (draft `links`). */
  readonly links?: Readonly<Record<string, string>>;
}

/**
 * What `run` returns: `true`/`undefined` pass, `false` fails, or a {@link CheckResult}. A throw or a rejection fails
 * the check with the error's message as (withheld by default) output.
 */
export type CheckReturn = boolean | undefined | void | CheckResult;

/**
 * One health check. Checks run concurrently, each under its own timeout; a check may be cached (`cacheMs`) or run
 * in the background (`intervalMs`) so probes only read its latest result.
 *
 * @example
 * ```ts
 * const db: HealthCheck = {
 *   name: 'postgres',
 *   measurement: 'responseTime',
 *   componentType: 'datastore',
 *   tags: ['ready'],
 *   timeoutMs: 300,
 *   run: async (signal) => { await pool.query({ text: 'SELECT 1', signal }); return true; },
 * };
 * ```
 */
export interface HealthCheck {
  /** Unique name: letters, digits, `.`, `_`, `-` (used in `/readyz/<name>`, `?exclude=` and the document key). */
  readonly name: string;
  /** Runs the check. `signal` aborts when the check times out. */
  run(signal: AbortSignal): CheckReturn | Promise<CheckReturn>;
  /** The document key is `name:measurement` (e.g. `responseTime`, `utilization`); just `name` when unset. */
  readonly measurement?: string;
  /** Draft `componentType`: `component`, `datastore`, `system` or a URI. Default `component`. */
  readonly componentType?: string;
  /** Draft `componentId`. */
  readonly componentId?: string;
  /** Longest a run may take before it reports `fail` with output `timeout`. Default 500 (Kubernetes' probe timeout is 1 s). */
  readonly timeoutMs?: number;
  /** A failing critical check fails the probe; a failing non-critical one only warns. Default `true`. */
  readonly critical?: boolean;
  /** Probes that include the check. Default `['ready']`: a failing dependency should stop traffic, not restart the pod. */
  readonly tags?: readonly ProbeTag[];
  /** Reuse a result for this long (probes within it run nothing). */
  readonly cacheMs?: number;
  /** Run in the background every `intervalMs` instead of on demand; probes read the latest result. */
  readonly intervalMs?: number;
}

export const namePattern = /^[A-Za-z0-9._-]{1,100}$/;

export const checkSchema = z
  .object({
    name: z.string().regex(namePattern, { message: 'must be 1-100 letters, digits, ".", "_" or "-"' }),
    run: functionSchema<HealthCheck['run']>(),
    measurement: z
      .string()
      .regex(/^[^:]{1,100}$/, { message: 'must be 1-100 characters without ":"' })
      .optional(),
    componentType: z.string().min(1).default('component'),
    componentId: z.string().min(1).optional(),
    timeoutMs: durationMsSchema.default(500),
    critical: z.boolean().default(true),
    tags: z
      .array(z.enum(['live', 'ready', 'startup']))
      .min(1, { message: 'must name at least one probe (live, ready, startup)' })
      .default(['ready']),
    cacheMs: durationMsSchema.optional(),
    intervalMs: durationMsSchema.optional(),
  })
  .strict()
  .refine((c) => c.cacheMs === undefined || c.intervalMs === undefined, {
    message: 'set cacheMs or intervalMs, not both',
    path: ['intervalMs'],
  });

/** A check's options after validation and defaults. */
export type ParsedCheck = z.output<typeof checkSchema>;
