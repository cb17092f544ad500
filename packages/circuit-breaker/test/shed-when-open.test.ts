import { afterEach, describe, expect, it } from 'vitest';
import { circuitBreaker, consecutive, shedWhenOpenGuard } from '@bulwark/circuit-breaker';
import * as expressAdapter from '@bulwark/circuit-breaker/express';
import * as fastifyAdapter from '@bulwark/circuit-breaker/fastify';
import * as koaAdapter from '@bulwark/circuit-breaker/koa';
import { frameworks, serve, type TestServer } from '@bulwark/test-servers';

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
    expect(await shed.json()).toMatchObject({ status: 503, type: 'https://bulwark.dev/problems#circuit-open' });
  });
});

it('each adapter subpath exports shedWhenOpen; bad options are named', () => {
  for (const adapter of [expressAdapter, fastifyAdapter, koaAdapter]) expect(typeof adapter.shedWhenOpen).toBe('function');
  expect(() => shedWhenOpenGuard({ breaker: {} as never })).toThrow(expect.objectContaining({ field: 'breaker' }));
});
