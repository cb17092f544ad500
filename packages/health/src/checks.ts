import { statfs } from 'node:fs/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { z } from 'zod';
import { methodsSchema, parseOptions } from '@bulwark/core/internal';
import type { CheckResult, HealthCheck } from './check.js';
import type { HealthStatus } from './status.js';

/** The fields every built-in check accepts to override its defaults (name, tags, timeout, caching...). */
export type CheckOverrides = Partial<Omit<HealthCheck, 'run'>>;

const positive = z.number().positive().finite();
const ratio = z.number().gt(0).lt(1);

/** `fail` at or above `failAt`, `warn` at or above `warnAt`, else `pass` (thresholds on a "higher is worse" value). */
function grade(value: number, warnAt: number | undefined, failAt: number | undefined): HealthStatus {
  if (failAt !== undefined && value >= failAt) return 'fail';
  if (warnAt !== undefined && value >= warnAt) return 'warn';
  return 'pass';
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** A response-time result for a dependency call that succeeded. */
function responseTime(started: number): CheckResult {
  return { status: 'pass', observedValue: round1(performance.now() - started), observedUnit: 'ms' };
}

/**
 * Event-loop delay: the p99 of `perf_hooks.monitorEventLoopDelay` since the previous run, in ms. A loop blocked
 * for long cannot serve requests in time: take the instance out of rotation before clients time out.
 *
 * @example
 * ```ts
 * createHealth({ checks: [eventLoopDelayCheck({ warnMs: 100, failMs: 500 })] });
 * // /health → "event-loop:delay": [{ "observedValue": 12.4, "observedUnit": "ms", "status": "pass", ... }]
 * ```
 */
export function eventLoopDelayCheck(
  options: CheckOverrides & { warnMs?: number; failMs?: number; resolutionMs?: number } = {},
): HealthCheck {
  const { warnMs, failMs, resolutionMs, ...overrides } = options;
  const o = parseOptions(
    z.object({
      warnMs: positive.optional(),
      failMs: positive.default(1000),
      resolutionMs: z.number().int().min(1).default(10),
    }),
    { warnMs, failMs, resolutionMs },
    'eventLoopDelayCheck()',
  );
  const histogram = monitorEventLoopDelay({ resolution: o.resolutionMs });
  histogram.enable();
  return {
    name: 'event-loop',
    measurement: 'delay',
    componentType: 'system',
    ...overrides,
    run: () => {
      // No samples yet (the first run right after start): nothing has been blocked.
      const p99 = histogram.count === 0 ? 0 : round1(histogram.percentile(99) / 1e6);
      histogram.reset();
      return { status: grade(p99, o.warnMs, o.failMs), observedValue: p99, observedUnit: 'ms' };
    },
  };
}

/**
 * V8 heap used as a percentage of the heap limit (`--max-old-space-size`). Near the limit, garbage collection
 * dominates and an out-of-memory crash is close.
 *
 * @example
 * ```ts
 * heapCheck({ warnRatio: 0.85, failRatio: 0.95 });
 * ```
 */
export function heapCheck(options: CheckOverrides & { warnRatio?: number; failRatio?: number } = {}): HealthCheck {
  const { warnRatio, failRatio, ...overrides } = options;
  const o = parseOptions(
    z.object({ warnRatio: ratio.default(0.9), failRatio: ratio.default(0.98) }),
    { warnRatio, failRatio },
    'heapCheck()',
  );
  return {
    name: 'heap',
    measurement: 'utilization',
    componentType: 'system',
    ...overrides,
    run: () => {
      const heap = getHeapStatistics();
      const used = heap.used_heap_size / heap.heap_size_limit;
      return {
        status: grade(used, o.warnRatio, o.failRatio),
        observedValue: round1(used * 100),
        observedUnit: 'percent',
      };
    },
  };
}

/**
 * Resident set size of the process, in bytes, against thresholds (e.g. below the container's memory limit, so
 * the instance leaves rotation before the OOM killer takes it).
 *
 * @example
 * ```ts
 * rssCheck({ warnBytes: 400 * 2 ** 20, failBytes: 480 * 2 ** 20 });
 * ```
 */
export function rssCheck(options: CheckOverrides & { warnBytes?: number; failBytes: number }): HealthCheck {
  const { warnBytes, failBytes, ...overrides } = options;
  const o = parseOptions(
    z.object({ warnBytes: positive.optional(), failBytes: positive }),
    { warnBytes, failBytes },
    'rssCheck()',
  );
  return {
    name: 'memory',
    measurement: 'rss',
    componentType: 'system',
    ...overrides,
    run: () => {
      const rss = process.memoryUsage.rss();
      return { status: grade(rss, o.warnBytes, o.failBytes), observedValue: rss, observedUnit: 'bytes' };
    },
  };
}

/**
 * Free disk space (available to this process) on the file system holding `path`, from `fs.statfs`. Fails below
 * `minFreeRatio` (default 5 %) or `minFreeBytes`; warns below `warnFreeRatio` / `warnFreeBytes`.
 *
 * @example
 * ```ts
 * diskCheck({ path: '/var/lib/app', minFreeBytes: 1e9, warnFreeRatio: 0.15 });
 * ```
 */
export function diskCheck(
  options: CheckOverrides & {
    path?: string;
    minFreeBytes?: number;
    minFreeRatio?: number;
    warnFreeBytes?: number;
    warnFreeRatio?: number;
  } = {},
): HealthCheck {
  const { path, minFreeBytes, minFreeRatio, warnFreeBytes, warnFreeRatio, ...overrides } = options;
  const o = parseOptions(
    z.object({
      path: z.string().min(1).default('/'),
      minFreeBytes: positive.optional(),
      minFreeRatio: ratio.default(0.05),
      warnFreeBytes: positive.optional(),
      warnFreeRatio: ratio.optional(),
    }),
    { path, minFreeBytes, minFreeRatio, warnFreeBytes, warnFreeRatio },
    'diskCheck()',
  );
  const below = (free: number, ratioFree: number, bytes: number | undefined, r: number | undefined) =>
    (bytes !== undefined && free < bytes) || (r !== undefined && ratioFree < r);
  return {
    name: 'disk',
    measurement: 'free',
    componentType: 'system',
    ...overrides,
    run: async () => {
      const s = await statfs(o.path);
      const free = s.bavail * s.bsize;
      const ratioFree = s.blocks === 0 ? 1 : s.bavail / s.blocks;
      const status: HealthStatus = below(free, ratioFree, o.minFreeBytes, o.minFreeRatio)
        ? 'fail'
        : below(free, ratioFree, o.warnFreeBytes, o.warnFreeRatio)
          ? 'warn'
          : 'pass';
      return {
        status,
        observedValue: free,
        observedUnit: 'bytes',
        output: status === 'pass' ? undefined : `${free} bytes free`,
      };
    },
  };
}

/** The part of a Redis client the Redis check uses: ioredis and node-redis both have it. */
export interface PingableRedis {
  /** Answers `PONG`, or rejects. */
  ping(): Promise<unknown>;
}

/**
 * Redis `PING` round trip, in ms. Give the client a short command timeout or none: the check's own timeout
 * answers the probe either way.
 *
 * @example
 * ```ts
 * redisCheck({ client: new Redis(process.env.REDIS_URL) });
 * ```
 */
export function redisCheck(options: CheckOverrides & { client: PingableRedis }): HealthCheck {
  const { client, ...overrides } = options;
  parseOptions(
    z.object({ client: methodsSchema<PingableRedis>(['ping'], 'expected a client with ping()') }),
    { client },
    'redisCheck()',
  );
  return {
    name: 'redis',
    measurement: 'responseTime',
    componentType: 'datastore',
    ...overrides,
    run: async () => {
      const started = performance.now();
      await client.ping();
      return responseTime(started);
    },
  };
}

/**
 * An HTTP dependency: passes when `fetch(url)` answers with a status `expectStatus` accepts (default 200–399;
 * redirects are not followed). Reports the response time in ms.
 *
 * @example
 * ```ts
 * httpCheck({ name: 'payments', url: 'http://payments.internal/readyz', critical: false });
 * ```
 */
export function httpCheck(
  options: CheckOverrides & {
    url: string | URL;
    method?: string;
    headers?: Record<string, string>;
    expectStatus?: (status: number) => boolean;
  },
): HealthCheck {
  const { url, method, headers, expectStatus, ...overrides } = options;
  const o = parseOptions(
    z.object({
      url: z.union([z.url(), z.instanceof(URL)]),
      method: z.string().default('GET'),
      headers: z.record(z.string(), z.string()).optional(),
    }),
    { url, method, headers },
    'httpCheck()',
  );
  const accept = expectStatus ?? ((status: number) => status >= 200 && status < 400);
  return {
    name: 'http',
    measurement: 'responseTime',
    componentType: 'component',
    ...overrides,
    run: async (signal) => {
      const started = performance.now();
      const res = await fetch(o.url, { method: o.method, headers: o.headers, signal, redirect: 'manual' });
      await res.body?.cancel();
      const result = responseTime(started);
      return accept(res.status) ? result : { ...result, status: 'fail', output: `HTTP ${res.status}` };
    },
  };
}

/**
 * Anything else: passes when `run` resolves (its value is ignored), fails when it throws or rejects. Reports the
 * response time in ms. Use it for a database `SELECT 1`, a queue connection, a feature store.
 *
 * @example
 * ```ts
 * pingCheck({ name: 'postgres', componentType: 'datastore', run: (signal) => pool.query({ text: 'SELECT 1', signal }) });
 * ```
 */
export function pingCheck(
  options: CheckOverrides & { name: string; run: (signal: AbortSignal) => unknown },
): HealthCheck {
  const { run, ...overrides } = options;
  return {
    measurement: 'responseTime',
    ...overrides,
    run: async (signal) => {
      const started = performance.now();
      await run(signal);
      return responseTime(started);
    },
  };
}
