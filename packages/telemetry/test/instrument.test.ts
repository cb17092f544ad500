import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { compose, fallback, BulwarkConfigError, timeout } from '@bulwark/core';
import { VirtualClock } from '@bulwark/core/testing';
import { retry, retryBudget } from '@bulwark/retry';
import { circuitBreaker, consecutive } from '@bulwark/circuit-breaker';
import { bulkhead } from '@bulwark/bulkhead';
import { rateLimiter } from '@bulwark/rate-limiter';
import { redisStore } from '@bulwark/rate-limiter/redis';
import { createHealth, gracefulShutdown } from '@bulwark/health';
import { featureFlags } from '@bulwark/feature-flags';
import { channelHandlers, instrument, type Instrumentation } from '@bulwark/telemetry';
import { capturedLogger, countOf, newRegistry, valueOf } from './helpers.js';

let telemetry: Instrumentation | undefined;
afterEach(() => {
  telemetry?.dispose();
  telemetry = undefined;
});

const fail = () => Promise.reject(new Error('dependency down'));
const noDelay = () => 0;

describe('metrics and logs per primitive', () => {
  it('policy calls: counted by policy, name and outcome, with durations', async () => {
    const registry = newRegistry();
    telemetry = instrument({ registry });
    const breaker = circuitBreaker({ name: 'db', window: consecutive(100) });
    await breaker.execute(() => 1);
    await breaker.execute(() => Promise.resolve(2));
    await expect(breaker.execute(fail)).rejects.toThrow('dependency down');
    await expect(
      timeout(5, { name: 'slow', strategy: 'aggressive' }).execute(() => new Promise(() => {})),
    ).rejects.toMatchObject({ code: 'BULWARK_TIMEOUT' });
    const calls = (outcome: string, policy = 'circuit-breaker', name = 'db') =>
      valueOf(registry, 'bulwark_policy_calls_total', { policy, name, outcome });
    expect(await calls('success')).toBe(2);
    expect(await calls('error')).toBe(1);
    expect(await calls('timeout', 'timeout', 'slow')).toBe(1);
    expect(await countOf(registry, 'bulwark_policy_duration_seconds', { policy: 'circuit-breaker', name: 'db' })).toBe(
      3,
    );
    expect(await valueOf(registry, 'bulwark_timeouts_total', { name: 'slow' })).toBe(1);
  });

  it('every layer of a composed stack reports its own calls; rejections are "rejected"', async () => {
    const registry = newRegistry();
    telemetry = instrument({ registry });
    const pool = bulkhead({ name: 'pool', maxConcurrent: 1 });
    const stack = compose(
      fallback(() => 'cached', { name: 'fb' }),
      pool,
    );
    let release!: () => void;
    const first = pool.execute(() => new Promise<void>((r) => (release = r)));
    expect(await stack.execute(() => 'live')).toBe('cached'); // the bulkhead is full: the fallback answers
    release();
    await first;
    expect(
      await valueOf(registry, 'bulwark_policy_calls_total', { policy: 'bulkhead', name: 'pool', outcome: 'rejected' }),
    ).toBe(1);
    expect(
      await valueOf(registry, 'bulwark_policy_calls_total', { policy: 'fallback', name: 'fb', outcome: 'success' }),
    ).toBe(1);
    expect(await valueOf(registry, 'bulwark_fallbacks_total', { name: 'fb' })).toBe(1);
    expect(await valueOf(registry, 'bulwark_bulkhead_rejections_total', { name: 'pool', reason: 'full' })).toBe(1);
    expect(await valueOf(registry, 'bulwark_bulkhead_active', { name: 'pool' })).toBe(0);
  });

  it('circuit breaker: state gauge, transitions, and warn/info logs', async () => {
    const registry = newRegistry();
    const { logger, lines } = capturedLogger();
    telemetry = instrument({ registry, logger });
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ name: 'payments', window: consecutive(2), openMs: 1000, clock });
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    expect(await valueOf(registry, 'bulwark_circuit_state', { name: 'payments', state: 'open' })).toBe(1);
    expect(await valueOf(registry, 'bulwark_circuit_state', { name: 'payments', state: 'closed' })).toBe(0);
    await clock.advance(1000);
    await breaker.execute(() => 'ok');
    expect(await valueOf(registry, 'bulwark_circuit_state', { name: 'payments', state: 'closed' })).toBe(1);
    expect(
      await valueOf(registry, 'bulwark_circuit_transitions_total', { name: 'payments', from: 'closed', to: 'open' }),
    ).toBe(1);
    const logged = lines.filter((l) => String(l.msg).startsWith('bulwark: circuit'));
    expect(logged.map((l) => [l.level, l.msg, l.breaker])).toEqual([
      [40, 'bulwark: circuit open', 'payments'],
      [30, 'bulwark: circuit half-open', 'payments'],
      [30, 'bulwark: circuit closed', 'payments'],
    ]);
  });

  it('retry: attempts, give-ups by reason, budget exhaustion counted and logged at warn', async () => {
    const registry = newRegistry();
    const { logger, lines } = capturedLogger();
    telemetry = instrument({ registry, logger });
    const plain = retry({ name: 'quotes', maxAttempts: 3, backoff: noDelay });
    await expect(plain.execute(fail)).rejects.toThrow();
    expect(await valueOf(registry, 'bulwark_retry_attempts_total', { name: 'quotes' })).toBe(2);
    expect(await valueOf(registry, 'bulwark_retry_give_ups_total', { name: 'quotes', reason: 'max-attempts' })).toBe(1);

    const budget = retryBudget({ maxTokens: 2, tokenRatio: 0.1 });
    const budgeted = retry({ name: 'search', maxAttempts: 5, backoff: noDelay, budget });
    for (let i = 0; i < 4; i++) await expect(budgeted.execute(fail)).rejects.toThrow();
    const exhausted = await valueOf(registry, 'bulwark_retry_budget_exhausted_total', { name: 'search' });
    expect(exhausted).toBeGreaterThan(0);
    expect(lines.filter((l) => l.msg === 'bulwark: retry budget exhausted' && l.level === 40)).toHaveLength(exhausted);
  });

  it('rate limiter: decisions by limiter and outcome; keys never reach metrics or logs', async () => {
    const registry = newRegistry();
    const { logger, lines } = capturedLogger();
    telemetry = instrument({ registry, logger });
    const limiter = rateLimiter({ name: 'login', limit: 1, windowMs: 60_000 });
    limiter.consume('alice@example.com');
    limiter.consume('alice@example.com');
    expect(await valueOf(registry, 'bulwark_ratelimit_decisions_total', { name: 'login', decision: 'allowed' })).toBe(
      1,
    );
    expect(await valueOf(registry, 'bulwark_ratelimit_decisions_total', { name: 'login', decision: 'limited' })).toBe(
      1,
    );
    expect(await registry.metrics()).not.toContain('alice');
    expect(JSON.stringify(lines)).not.toContain('alice');
  });

  it('rate-limit store errors: counted by operation and policy, logged at error without the key', async () => {
    const registry = newRegistry();
    const { logger, lines } = capturedLogger();
    telemetry = instrument({ registry, logger });
    const down = () => Promise.reject(new Error('ECONNREFUSED'));
    const store = redisStore({ client: { evalsha: down, eval: down }, onError: 'open', errorBackoffMs: 1 });
    const limiter = rateLimiter({ name: 'api', limit: 10, windowMs: 1000, store });
    expect((await limiter.consume('secret-key')).allowed).toBe(true);
    expect(
      await valueOf(registry, 'bulwark_ratelimit_store_errors_total', { operation: 'consume', decided_by: 'open' }),
    ).toBe(1);
    const logged = lines.find((l) => l.msg === 'bulwark: rate-limit store failed');
    expect(logged).toMatchObject({ level: 50, operation: 'consume', decidedBy: 'open', err: 'ECONNREFUSED' });
    expect(JSON.stringify(lines)).not.toContain('secret-key');
  });

  it('health: status gauge and durations per check; only changes are logged', async () => {
    const registry = newRegistry();
    const { logger, lines } = capturedLogger();
    telemetry = instrument({ registry, logger });
    let status = 'pass';
    const health = createHealth({ checks: [{ name: 'db', run: () => ({ status, output: 'password=hunter2' }) }] });
    await health.report('ready');
    expect(await valueOf(registry, 'bulwark_health_check_status', { name: 'db' })).toBe(1);
    status = 'warn';
    await health.report('ready');
    expect(await valueOf(registry, 'bulwark_health_check_status', { name: 'db' })).toBe(0.5);
    status = 'fail';
    await health.report('ready');
    await health.report('ready');
    expect(await valueOf(registry, 'bulwark_health_check_status', { name: 'db' })).toBe(0);
    expect(await countOf(registry, 'bulwark_health_check_duration_seconds', { name: 'db' })).toBe(4);
    expect(lines.filter((l) => String(l.msg).startsWith('bulwark: health check')).map((l) => [l.level, l.msg])).toEqual(
      [
        [40, 'bulwark: health check warn'],
        [40, 'bulwark: health check fail'],
      ],
    );
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('feature flags: evaluations by flag, variant and reason, weighted by the sample rate; refused documents', async () => {
    const registry = newRegistry();
    const { logger, lines } = capturedLogger();
    telemetry = instrument({ registry, logger });
    const doc = { flags: { beta: { rules: [{ targetingKeys: ['a'] }] } } };
    const flags = featureFlags({ name: 'web', env: false, flags: doc });
    for (const key of ['a', 'b', 'c']) flags.isEnabled('beta', { targetingKey: key });
    const sampled = featureFlags({ name: 'sampled', env: false, flags: doc, evaluationSampleRate: 0.25 });
    for (let i = 0; i < 8; i++) sampled.isEnabled('beta', { targetingKey: 'a' });
    const evaluations = (labels: Record<string, string>) => valueOf(registry, 'bulwark_flag_evaluations_total', labels);
    expect(await evaluations({ name: 'web', flag: 'beta', variant: 'on', reason: 'TARGETING_MATCH' })).toBe(1);
    expect(await evaluations({ name: 'web', flag: 'beta', variant: 'off', reason: 'DEFAULT' })).toBe(2);
    expect(await evaluations({ name: 'sampled', flag: 'beta', variant: 'on', reason: 'TARGETING_MATCH' })).toBe(8);
    await expect(flags.set('x', { rules: [{ segments: ['none'] }] })).rejects.toThrow();
    const source = {
      load: async () => ({ flags: { ok: {} } }),
      watch: (update: (d: unknown) => void) => (update({ flags: 1 }), () => {}),
    };
    const watched = featureFlags({ name: 'watched', env: false, source });
    await watched.ready();
    await new Promise((r) => setImmediate(r));
    expect(await valueOf(registry, 'bulwark_flag_document_errors_total', { name: 'watched' })).toBe(1);
    expect(lines.find((l) => l.msg === 'bulwark: flag document refused; the last good one stays')).toMatchObject({
      name: 'watched',
    });
  });

  it('shutdown steps are logged', async () => {
    const { logger, lines } = capturedLogger();
    telemetry = instrument({ registry: false, logger });
    await gracefulShutdown([], {
      signals: [],
      exit: false,
      hooks: [{ name: 'pool', run: () => Promise.reject(new Error('stuck')) }],
    }).shutdown('test');
    expect(
      lines.filter((l) => String(l.msg).startsWith('bulwark: shutdown')).map((l) => [l.level, l.step, l.name ?? null]),
    ).toEqual([
      [30, 'begin', 'test'],
      [30, 'drain', null],
      [40, 'hook', 'pool'],
      [30, 'exit', null],
    ]);
  });
});

describe('subscription lifecycle', () => {
  it('dispose() unsubscribes every channel: primitives go back to paying nothing', async () => {
    const registry = newRegistry();
    const before = channelHandlers.map((h) => diagnosticsChannel.channel(h.channel).hasSubscribers);
    expect(before.every((s) => !s)).toBe(true);
    const t = instrument({ registry });
    expect(channelHandlers.every((h) => diagnosticsChannel.channel(h.channel).hasSubscribers)).toBe(true);
    t.dispose();
    t.dispose();
    expect(channelHandlers.some((h) => diagnosticsChannel.channel(h.channel).hasSubscribers)).toBe(false);
    await timeout(100, { name: 'after' }).execute(() => 1);
    expect(
      await valueOf(registry, 'bulwark_policy_calls_total', { policy: 'timeout', name: 'after', outcome: 'success' }),
    ).toBe(0);
  });

  it('include limits the packages; a second instrument() on one registry reuses its metrics', async () => {
    const registry = newRegistry();
    telemetry = instrument({ registry, include: ['rate-limiter'] });
    const other = instrument({ registry, include: ['rate-limiter'] });
    expect(other.metrics!.rateLimitDecisions).toBe(telemetry.metrics!.rateLimitDecisions);
    expect(other.metrics!.policyCalls).toBe(telemetry.metrics!.policyCalls);
    other.dispose();
    await circuitBreaker({ name: 'x' }).execute(() => 1);
    rateLimiter({ name: 'only', limit: 5, windowMs: 1000 }).consume('k');
    expect(
      await valueOf(registry, 'bulwark_policy_calls_total', {
        policy: 'circuit-breaker',
        name: 'x',
        outcome: 'success',
      }),
    ).toBe(0);
    expect(await valueOf(registry, 'bulwark_ratelimit_decisions_total', { name: 'only', decision: 'allowed' })).toBe(1);
  });

  it("defaultMetrics collects prom-client's Node and process metrics on the same registry, once", async () => {
    const registry = newRegistry();
    telemetry = instrument({ registry, defaultMetrics: { prefix: 'orders_', labels: { pod: 'a' } } });
    const again = instrument({ registry, defaultMetrics: { prefix: 'orders_', labels: { pod: 'a' } } }); // no throw
    again.dispose();
    const text = await registry.metrics();
    expect(text).toMatch(/^orders_process_cpu_user_seconds_total\{pod="a"\} \d/m);
    expect(text).toMatch(/^orders_nodejs_heap_size_used_bytes\{pod="a"\} \d/m);
    expect(text).toContain('bulwark_policy_calls_total');
    const plain = newRegistry();
    instrument({ registry: plain, include: [] }).dispose();
    expect(await plain.metrics()).not.toContain('process_cpu_user_seconds_total'); // off by default
  });

  it.each([
    [{ registry: {} }, /registry/],
    [{ tracer: 'otel' }, /tracer/],
    [{ logger: console.log }, /logger/],
    [{ include: ['metrics'] }, /include/],
    [{ registy: newRegistry() }, /registy.*unknown option/s],
    [{ registry: false, defaultMetrics: true }, /defaultMetrics.*need a registry/s],
    [{ defaultMetrics: { prefix: 'bad-prefix' } }, /defaultMetrics.prefix/],
  ])('bad options %# are refused naming the field', (options, field) => {
    const make = () => instrument(options as never);
    expect(make).toThrow(BulwarkConfigError);
    expect(make).toThrow(field);
  });
});
