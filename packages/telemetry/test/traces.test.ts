import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { VirtualClock } from '@bulwark/core/testing';
import { retry } from '@bulwark/retry';
import { circuitBreaker, consecutive } from '@bulwark/circuit-breaker';
import { rateLimiter } from '@bulwark/rate-limiter';
import { gracefulShutdown } from '@bulwark/health';
import { instrument, type Instrumentation } from '@bulwark/telemetry';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let telemetry: Instrumentation;

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  telemetry = instrument({ registry: false });
});
afterAll(() => {
  telemetry.dispose();
  trace.disable();
  context.disable();
});

/** Runs `fn` inside an active span and returns what was recorded on it. */
async function inSpan(fn: () => Promise<unknown>) {
  exporter.reset();
  await trace.getTracer('test').startActiveSpan('request', async (span) => {
    try {
      await fn();
    } catch {
      // the outcome is not under test here
    } finally {
      span.end();
    }
  });
  const span = exporter.getFinishedSpans().find((s) => s.name === 'request')!;
  return { events: span.events.map((e) => ({ name: e.name, attributes: e.attributes })), attributes: span.attributes };
}

describe('span events and attributes on the active span', () => {
  it('each retry attempt is an event with its attempt number and delay; giving up is one too', async () => {
    const policy = retry({ name: 'quotes', maxAttempts: 3, backoff: () => 0 });
    const { events } = await inSpan(() => policy.execute(() => Promise.reject(new TypeError('boom'))));
    expect(events).toEqual([
      {
        name: 'bulwark.retry',
        attributes: {
          'bulwark.name': 'quotes',
          'bulwark.retry.attempt': 2,
          'bulwark.retry.delay_ms': 0,
          'bulwark.retry.delay_source': 'backoff',
          'error.type': 'TypeError',
        },
      },
      { name: 'bulwark.retry', attributes: expect.objectContaining({ 'bulwark.retry.attempt': 3 }) },
      {
        name: 'bulwark.retry.give_up',
        attributes: { 'bulwark.name': 'quotes', 'bulwark.retry.reason': 'max-attempts', 'bulwark.retry.attempts': 3 },
      },
    ]);
  });

  it('circuit transitions are events on the span of the call that caused them', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ name: 'db', window: consecutive(1), openMs: 10, clock });
    const opened = await inSpan(() => breaker.execute(() => Promise.reject(new Error('down'))));
    expect(opened.events).toEqual([
      { name: 'bulwark.circuit.open', attributes: { 'bulwark.name': 'db', 'bulwark.circuit.from': 'closed' } },
    ]);
    await clock.advance(10);
    const closed = await inSpan(() => breaker.execute(() => 'ok'));
    expect(closed.events.map((e) => e.name)).toEqual(['bulwark.circuit.half-open', 'bulwark.circuit.closed']);
  });

  it('a rate-limit decision sets bulwark.ratelimit.allowed on the span', async () => {
    const limiter = rateLimiter({ name: 'search', limit: 1, windowMs: 60_000 });
    expect((await inSpan(async () => limiter.consume('k'))).attributes).toMatchObject({
      'bulwark.ratelimit.allowed': true,
      'bulwark.name': 'search',
    });
    expect((await inSpan(async () => limiter.consume('k'))).attributes).toMatchObject({
      'bulwark.ratelimit.allowed': false,
    });
  });

  it('shutdown gets a span of its own with one event per step', async () => {
    exporter.reset();
    await gracefulShutdown([], { signals: [], exit: false }).shutdown('SIGTERM');
    const span = exporter.getFinishedSpans().find((s) => s.name === 'bulwark.shutdown')!;
    expect(span.attributes).toEqual({ 'bulwark.shutdown.reason': 'SIGTERM', 'bulwark.shutdown.exit_code': 0 });
    expect(span.events.map((e) => e.name)).toEqual([
      'bulwark.shutdown.begin',
      'bulwark.shutdown.drain',
      'bulwark.shutdown.exit',
    ]);
  });

  it('outside any span, or with traces off, nothing is recorded and nothing fails', async () => {
    exporter.reset();
    await expect(
      retry({ maxAttempts: 2, backoff: () => 0 }).execute(() => Promise.reject(new Error('x'))),
    ).rejects.toThrow('x');
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(exporter.getFinishedSpans()).toEqual([]); // no span was active, and Bulwark started none
    const off = instrument({ registry: false, tracer: false });
    telemetry.dispose();
    try {
      const { events } = await inSpan(() =>
        retry({ maxAttempts: 2, backoff: () => 0 }).execute(() => Promise.reject(new Error('x'))),
      );
      expect(events).toEqual([]);
    } finally {
      off.dispose();
      telemetry = instrument({ registry: false });
    }
  });
});
