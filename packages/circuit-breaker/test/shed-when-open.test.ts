import { afterEach, describe, expect, it } from 'vitest';
import { circuitBreaker, consecutive, shedWhenOpenGuard, type ShedWhenOpenOptions } from '@bulwark/circuit-breaker';
import * as expressAdapter from '@bulwark/circuit-breaker/express';
import * as fastifyAdapter from '@bulwark/circuit-breaker/fastify';
import * as koaAdapter from '@bulwark/circuit-breaker/koa';
import type { FastifyGuardHook } from '@bulwark/http/fastify';
import { frameworks, mountEach, serve, type Mount, type TestServer } from '@bulwark/test-servers';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe.each(frameworks)('shedWhenOpen: %s', (framework) => {
  it('counts 5xx responses, then sheds with 503, Retry-After and a problem body while open', async () => {
    const breaker = circuitBreaker({ window: consecutive(2), openMs: 30_000 });
    server = await serve(framework, { guard: shedWhenOpenGuard({ breaker }) });
    expect((await fetch(`${server.url}/echo`)).status).toBe(200);
    expect((await fetch(`${server.url}/fail`)).status).toBe(500);
    await expect.poll(() => breaker.counts.failures).toBe(1);
    expect((await fetch(`${server.url}/fail`)).status).toBe(500);
    await expect.poll(() => breaker.state).toBe('open');

    const shed = await fetch(`${server.url}/echo`);
    expect(shed.status).toBe(503);
    expect(Number(shed.headers.get('retry-after'))).toBeGreaterThanOrEqual(29);
    expect(shed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await shed.json()).toMatchObject({
      status: 503,
      type: 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity',
    });
  });
});

/** The package's own adapters, one per framework, from the same options. */
const shedMount = (options: ShedWhenOpenOptions & { hook?: FastifyGuardHook }): Mount =>
  mountEach(
    { express: expressAdapter.shedWhenOpen, fastify: fastifyAdapter.shedWhenOpen, koa: koaAdapter.shedWhenOpen },
    options,
  );

describe.each(frameworks)('shedWhenOpen from the adapter subpaths: %s', (framework) => {
  it('takes every documented option: isFailure, respond, skip (and hook on Fastify)', async () => {
    const breaker = circuitBreaker({ window: consecutive(1), openMs: 30_000 });
    server = await serve(framework, {
      mounts: [
        shedMount({
          breaker,
          isFailure: (status) => status === 201, // a route's 201 counts as a failure here
          respond: (retryAfterMs) => ({ status: 503, body: `back in ${Math.ceil(retryAfterMs / 1000)} s` }),
          skip: (req) => req.path === '/exempt',
          hook: 'preHandler',
        }),
      ],
    });
    expect((await fetch(`${server.url}/fail`)).status).toBe(500); // not a failure by this isFailure
    expect((await fetch(`${server.url}/created`)).status).toBe(201);
    await expect.poll(() => breaker.state).toBe('open');
    const shed = await fetch(`${server.url}/echo`);
    expect(shed.status).toBe(503);
    expect(await shed.text()).toMatch(/^back in (29|30) s$/);
    expect((await fetch(`${server.url}/exempt`)).status).toBe(200);
  });
});

it("Fastify: a route's config opts out, and a bad hook is a config error", async () => {
  const breaker = circuitBreaker({ window: consecutive(1) });
  breaker.isolate();
  server = await serve('fastify5', {
    mounts: [shedMount({ breaker, hook: 'onRequest' })],
    exemptConfig: { shedWhenOpen: false },
  });
  expect((await fetch(`${server.url}/echo`)).status).toBe(503);
  expect((await fetch(`${server.url}/exempt`)).status).toBe(200);
  expect(() => fastifyAdapter.shedWhenOpen({ breaker, hook: 'later' as never })).toThrow(
    expect.objectContaining({ code: 'BULWARK_INVALID_CONFIG', field: 'hook' }),
  );
});

it('bad options are named', () => {
  expect(() => shedWhenOpenGuard({ breaker: {} as never })).toThrow(expect.objectContaining({ field: 'breaker' }));
  expect(() => shedWhenOpenGuard({ breaker: circuitBreaker(), skip: 1 as never })).toThrow(
    expect.objectContaining({ field: 'skip' }),
  );
});
