/**
 * The service's Bulwark setup, written once and framework-free: each framework file (express.ts, fastify.ts,
 * koa.ts) only mounts these pieces with that framework's one-line adapters.
 */
import { createApiVersioning } from './versioning.js';
import { compose, timeout } from '@bulwark/core';
import { bulkhead } from '@bulwark/bulkhead';
import { circuitBreaker, consecutive } from '@bulwark/circuit-breaker';
import { retry, exponential, retryBudget } from '@bulwark/retry';
import { memoryStore, rateLimiter, type RateLimiter } from '@bulwark/rate-limiter';
import { redisStore } from '@bulwark/rate-limiter/redis';
import { createHealth, eventLoopDelayCheck, redisCheck, type Health } from '@bulwark/health';
import { instrument, type Instrumentation, type StatusPageOptions } from '@bulwark/telemetry';
import { featureFlags, type FeatureFlags } from '@bulwark/feature-flags';
import { createAuditLog, memorySink, type AuditLog, type MemorySink } from '@bulwark/audit-log';
import type { Versioning } from '@bulwark/api-versioning';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';

export interface ServiceOptions {
  /** Redis for the rate limits (shared across instances); without it, the limits are per process. */
  readonly redis?: Redis;
  /** The upstream the `/quote` route calls. */
  readonly upstreamUrl: string;
  /** Requests per minute per client. */
  readonly limit?: number;
  /** Prefix of the limit's Redis keys (default the store's). */
  readonly redisPrefix?: string;
  /** The bearer token of the status page at /bulwark (default `operator`: set OPERATOR_TOKEN outside a laptop). */
  readonly operatorToken?: string;
}

export interface Service {
  readonly registry: Registry;
  readonly telemetry: Instrumentation;
  readonly health: Health;
  readonly limiter: RateLimiter<'async'> | RateLimiter<'sync'>;
  readonly flags: FeatureFlags;
  readonly versioning: Versioning;
  readonly audit: AuditLog;
  readonly auditSink: MemorySink;
  /** The live status page's options (`statusPage()` on each framework): operators present the token. */
  readonly statusPage: StatusPageOptions;
  /** Calls the upstream under retry, breaker, bulkhead and a per-attempt deadline, ending with the caller's signal. */
  quote(signal: AbortSignal): Promise<unknown>;
  close(): Promise<void>;
}

export function createService(options: ServiceOptions): Service {
  const registry = new Registry();
  const telemetry = instrument({ registry });

  // Limits: shared in Redis when there is one; if Redis fails, each instance keeps limiting on its own.
  const limiter = rateLimiter({
    name: 'per-client',
    limit: options.limit ?? 60,
    windowMs: '1 minute',
    ...(options.redis
      ? {
          store: redisStore({
            client: options.redis,
            timeoutMs: 100,
            onError: memoryStore(),
            ...(options.redisPrefix === undefined ? {} : { prefix: options.redisPrefix }),
          }),
        }
      : {}),
  });

  // Outbound: retry within a budget, outside a breaker (which counts every attempt), at most 8 in flight, 500 ms
  // per attempt.
  const breaker = circuitBreaker({ name: 'quote-upstream', window: consecutive(5), openMs: 10_000 });
  const policy = compose(
    retry({ maxAttempts: 3, backoff: exponential({ baseMs: 50, maxMs: 500 }), budget: retryBudget() }),
    breaker,
    bulkhead({ name: 'quote-upstream', maxConcurrent: 8, maxQueue: 16 }),
    timeout(500),
  );
  const quote = (signal: AbortSignal) =>
    policy.execute(async ({ signal: attempt }) => {
      const res = await fetch(options.upstreamUrl, { signal: attempt });
      if (res.status >= 500) throw Object.assign(new Error(`upstream answered ${res.status}`), { response: res });
      return res.json();
    }, signal);

  const health = createHealth({
    serviceId: 'bulwark-example',
    checks: [
      eventLoopDelayCheck({ warnMs: 100, failMs: 1_000, tags: ['live', 'ready'] }),
      ...(options.redis ? [{ ...redisCheck({ client: options.redis }), critical: false }] : []),
      {
        name: 'quote-upstream',
        critical: false,
        run: () => ({ status: breaker.state === 'open' ? 'fail' : 'pass', output: `circuit ${breaker.state}` }),
      },
    ],
  });

  const flags = featureFlags({
    flags: { flags: { 'beta-notes': { rules: [{ targetingKeys: ['alice'] }] } } },
    env: false,
  });
  const auditSink = memorySink();
  const audit = createAuditLog({ app: { id: 'bulwark-example', version: '1.0.0' }, sink: auditSink });

  return {
    registry,
    telemetry,
    health,
    limiter,
    flags,
    versioning: createApiVersioning(),
    audit,
    auditSink,
    statusPage: {
      authorize: (req) => req.header('authorization') === `Bearer ${options.operatorToken ?? 'operator'}`,
      health,
    },
    quote,
    async close() {
      telemetry.dispose();
      await flags.close();
      await audit.close();
      await health.close();
    },
  };
}
