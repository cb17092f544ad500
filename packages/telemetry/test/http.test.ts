import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import Router from '@koa/router';
import { circuitBreaker } from '@bulwark/circuit-breaker';
import { bulkhead } from '@bulwark/bulkhead';
import { retry } from '@bulwark/retry';
import { rateLimiter } from '@bulwark/rate-limiter';
import { createHealth } from '@bulwark/health';
import { instrument, metricsEndpoint, requestMetricsGuard, type Instrumentation } from '@bulwark/telemetry';
import { metricsRoute as expressMetrics, requestMetrics as expressRequests } from '@bulwark/telemetry/express';
import { metricsRoute as fastifyMetrics, requestMetrics as fastifyRequests } from '@bulwark/telemetry/fastify';
import { metricsRoute as koaMetrics, requestMetrics as koaRequests } from '@bulwark/telemetry/koa';
import { frameworks, serve, type TestServer } from '@bulwark/test-servers';
import { newRegistry } from './helpers.js';

let server: TestServer | undefined;
let telemetry: Instrumentation | undefined;
afterEach(async () => {
  telemetry?.dispose();
  telemetry = undefined;
  await server?.close();
  server = undefined;
});

/** The value of one exposition line, e.g. `bulwark_policy_calls_total{policy="circuit-breaker",...}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(frameworks)('/metrics and request metrics on %s', (framework) => {
  it('scrapes Bulwark series and request durations by route template, method and status', async () => {
    const registry = newRegistry();
    telemetry = instrument({ registry });
    server = await serve(framework, {
      guard: requestMetricsGuard({ registry }),
      endpoints: [metricsEndpoint({ registry })],
    });
    // Drive each primitive once.
    const breaker = circuitBreaker({ name: 'inventory' });
    await breaker.execute(() => 'ok');
    let failures = 1;
    await retry({ name: 'quotes', backoff: () => 0 }).execute(() =>
      failures-- > 0 ? Promise.reject(new Error('flaky')) : 'ok',
    );
    const pool = bulkhead({ name: 'pool', maxConcurrent: 1 });
    await pool.execute(() => 'ok');
    const limiter = rateLimiter({ name: 'search', limit: 1, windowMs: 60_000 });
    limiter.consume('client');
    limiter.consume('client');
    await createHealth({ checks: [{ name: 'db', run: () => ({ status: 'warn' }) }] }).report('all');
    await (await fetch(`${server.url}/echo?user=42`)).text();
    await (await fetch(`${server.url}/echo?user=43`)).text();
    await (await fetch(`${server.url}/created`, { method: 'GET' })).text();
    await (await fetch(`${server.url}/fail`)).text();
    await (await fetch(`${server.url}/no/such/path/9f1c`)).text();
    await (await fetch(`${server.url}/echo`, { method: 'PROPFIND' })).text();

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(
      sample(text, 'bulwark_policy_calls_total{policy="circuit-breaker",name="inventory",outcome="success"}'),
    ).toBe(1);
    expect(sample(text, 'bulwark_policy_duration_seconds_count{policy="circuit-breaker",name="inventory"}')).toBe(1);
    expect(sample(text, 'bulwark_policy_calls_total{policy="retry",name="quotes",outcome="success"}')).toBe(1);
    expect(sample(text, 'bulwark_retry_attempts_total{name="quotes"}')).toBe(1);
    expect(sample(text, 'bulwark_policy_calls_total{policy="bulkhead",name="pool",outcome="success"}')).toBe(1);
    expect(sample(text, 'bulwark_bulkhead_active{name="pool"}')).toBe(0);
    expect(sample(text, 'bulwark_ratelimit_decisions_total{name="search",decision="allowed"}')).toBe(1);
    expect(sample(text, 'bulwark_ratelimit_decisions_total{name="search",decision="limited"}')).toBe(1);
    expect(sample(text, 'bulwark_health_check_status{name="db"}')).toBe(0.5);
    // Koa without a router cannot name the route: the label is empty, never the raw path.
    const route = (path: string) => (framework.startsWith('koa') ? '' : path);
    const count = (method: string, path: string, status: number) =>
      sample(
        text,
        `http_server_request_duration_seconds_count{http_request_method="${method}",http_route="${route(path)}",http_response_status_code="${status}"}`,
      );
    if (framework.startsWith('koa')) {
      expect(count('GET', '', 200)).toBe(2);
    } else {
      expect(count('GET', '/echo', 200)).toBe(2);
      expect(count('GET', '/created', 201)).toBe(1);
      expect(count('GET', '/fail', 500)).toBe(1);
      expect(count('GET', '', 404)).toBe(1);
    }
    expect(text).not.toContain('9f1c');
    expect(text).not.toContain('client');
    expect(text).not.toContain('user=');
    expect(text).not.toContain('PROPFIND');
    expect(text).toContain('http_request_method="_OTHER"');
  });
});

describe('route templates with parameters', () => {
  const templates = async (base: string, registry: ReturnType<typeof newRegistry>) => {
    await (await fetch(`${base}/users/1`)).text();
    await (await fetch(`${base}/users/2`)).text();
    const text = await (await fetch(`${base}/metrics`)).text();
    return (
      sample(
        text,
        'http_server_request_duration_seconds_count{http_request_method="GET",http_route="/users/:id",http_response_status_code="200"}',
      ) ?? JSON.stringify(await registry.getMetricsAsJSON())
    );
  };
  const listen = async (s: Server) => {
    await new Promise((r) => s.once('listening', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };

  it('express (router mounted under a prefix)', async () => {
    const registry = newRegistry();
    const app = express();
    app.use(expressRequests({ registry }));
    app.use(expressMetrics({ registry }));
    const users = express.Router();
    users.get('/:id', (_req, res) => void res.send('u'));
    app.use('/users', users);
    const s = app.listen(0, '127.0.0.1');
    try {
      expect(await templates(await listen(s), registry)).toBe(2);
    } finally {
      s.close();
    }
  });
  it('fastify', async () => {
    const registry = newRegistry();
    const app = Fastify();
    await app.register(fastifyRequests({ registry }));
    await app.register(fastifyMetrics({ registry }));
    app.get('/users/:id', async () => 'u');
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect(await templates(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, registry)).toBe(2);
    } finally {
      await app.close();
    }
  });
  it('koa with @koa/router', async () => {
    const registry = newRegistry();
    const app = new Koa();
    app.use(koaRequests({ registry }));
    app.use(koaMetrics({ registry }));
    const router = new Router();
    router.get('/users/:id', (ctx) => {
      ctx.body = 'u';
    });
    app.use(router.routes());
    const s = app.listen(0, '127.0.0.1');
    try {
      expect(await templates(await listen(s), registry)).toBe(2);
    } finally {
      s.close();
    }
  });
  it('koa with @koa/router: a prefixed router middleware that answers is labelled with its prefix, not a regex', async () => {
    const registry = newRegistry();
    const app = new Koa();
    app.use(koaRequests({ registry }));
    app.use(koaMetrics({ registry }));
    const payments = new Router({ prefix: '/payments' });
    payments.use(async (ctx, next) => {
      if (ctx.query.shed === undefined) return next();
      ctx.status = 503; // what shedWhenOpen does in front of a router's routes
    });
    payments.get('/charge', (ctx) => {
      ctx.body = 'charged';
    });
    app.use(payments.routes());
    const s = app.listen(0, '127.0.0.1');
    try {
      const url = await listen(s);
      await (await fetch(`${url}/payments/charge`)).text();
      await (await fetch(`${url}/payments/charge?shed`)).text();
      const text = await (await fetch(`${url}/metrics`)).text();
      const routes = [
        ...text.matchAll(
          /http_server_request_duration_seconds_count\{[^}]*http_route="([^"]*)",http_response_status_code="(\d+)"\}/g,
        ),
      ]
        .map(([, route, status]) => `${status} ${route}`)
        .sort();
      expect(routes).toEqual(['200 /payments/charge', '503 /payments']);
    } finally {
      s.close();
    }
  });
  it('authorize guards /metrics', async () => {
    const registry = newRegistry();
    server = await serve('express5', {
      endpoints: [metricsEndpoint({ registry, authorize: (req) => req.header('authorization') === 'Bearer scrape' })],
    });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(403);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer scrape' } })).status).toBe(200);
  });
});
