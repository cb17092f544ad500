import { afterEach, describe, expect, it } from 'vitest';
import { bulkhead } from '@bulwark/bulkhead';
import * as bulkheadExpress from '@bulwark/bulkhead/express';
import * as bulkheadFastify from '@bulwark/bulkhead/fastify';
import * as bulkheadKoa from '@bulwark/bulkhead/koa';
import { createHealth } from '@bulwark/health';
import * as healthExpress from '@bulwark/health/express';
import * as healthFastify from '@bulwark/health/fastify';
import * as healthKoa from '@bulwark/health/koa';
import { rateLimiter } from '@bulwark/rate-limiter';
import * as limitExpress from '@bulwark/rate-limiter/express';
import * as limitFastify from '@bulwark/rate-limiter/fastify';
import * as limitKoa from '@bulwark/rate-limiter/koa';
import * as metricsExpress from '@bulwark/telemetry/express';
import * as metricsFastify from '@bulwark/telemetry/fastify';
import * as metricsKoa from '@bulwark/telemetry/koa';
import { frameworks, serve, type Framework, type Mount, type TestServer } from '@bulwark/test-servers';
import { newRegistry } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function mounts(framework: Framework) {
  const health = createHealth({ checks: [{ name: 'db', run: () => ({ status: 'pass' }) }] });
  const registry = newRegistry();
  const limiter = rateLimiter({ limit: 1, windowMs: 60_000 });
  const pool = bulkhead({ maxConcurrent: 1 });
  const endpoints: Mount[] = [
    {
      express: healthExpress.healthRoutes(health),
      fastify: healthFastify.healthRoutes(health),
      koa: healthKoa.healthRoutes(health),
    },
    {
      express: metricsExpress.metricsRoute({ registry }),
      fastify: metricsFastify.metricsRoute({ registry }),
      koa: metricsKoa.metricsRoute({ registry }),
    },
  ];
  const guards: Mount[] = [
    {
      express: limitExpress.rateLimit({ limiter }),
      fastify: limitFastify.rateLimit({ limiter }),
      koa: limitKoa.rateLimit({ limiter }),
    },
    {
      express: bulkheadExpress.loadShedding({ limiter: pool }),
      fastify: bulkheadFastify.loadShedding({ limiter: pool }),
      koa: bulkheadKoa.loadShedding({ limiter: pool }),
    },
  ];
  // Express and Koa run middleware in order: the endpoints go first, as the health README says. Fastify runs a
  // context's hooks for every route whatever the order: there the guards are registered first, and must still
  // leave Bulwark's endpoints alone.
  return { pool, list: framework === 'fastify5' ? [...guards, ...endpoints] : [...endpoints, ...guards] };
}

describe.each(frameworks)("Bulwark's endpoints under saturated guards: %s", (framework) => {
  it('probes and /metrics answer 200 while the rate limit is spent and the bulkhead is full', async () => {
    const { pool, list } = mounts(framework);
    server = await serve(framework, { mounts: list });
    const client = new AbortController();
    const arrived = server.hung();
    const holding = fetch(`${server.url}/hang`, { signal: client.signal }).catch(() => undefined);
    await arrived; // spent the one request the limit allows, and holds the bulkhead's one slot
    expect(pool.active).toBe(1);
    expect((await fetch(`${server.url}/echo`)).status).toBe(429);

    for (const path of ['/livez', '/readyz', '/health', '/startupz', '/readyz/db', '/metrics']) {
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(`${server.url}${path}`, { method });
        expect([path, method, res.status, res.headers.get('ratelimit')]).toEqual([path, method, 200, null]);
      }
    }
    client.abort();
    await holding;
  });
});

it('Fastify: a route with config.bulwark false is left alone by every guard that can refuse', async () => {
  const { list } = mounts('fastify5');
  server = await serve('fastify5', { mounts: list, exemptConfig: { bulwark: false } });
  expect((await fetch(`${server.url}/echo`)).status).toBe(200);
  expect((await fetch(`${server.url}/echo`)).status).toBe(429);
  expect((await fetch(`${server.url}/exempt`)).status).toBe(200);
});
