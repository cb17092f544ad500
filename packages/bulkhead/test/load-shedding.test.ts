import { afterEach, describe, expect, it } from 'vitest';
import { bulkhead, loadSheddingGuard, type LoadSheddingOptions } from '@bulwark/bulkhead';
import * as expressAdapter from '@bulwark/bulkhead/express';
import * as fastifyAdapter from '@bulwark/bulkhead/fastify';
import * as koaAdapter from '@bulwark/bulkhead/koa';
import type { FastifyGuardHook } from '@bulwark/http/fastify';
import { frameworks, mountEach, serve, type Mount, type TestServer } from '@bulwark/test-servers';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe.each(frameworks)('load shedding: %s', (framework) => {
  it('sheds with 503, Retry-After and a problem body while full, and admits again once the slot frees', async () => {
    const limiter = bulkhead({ maxConcurrent: 1 });
    server = await serve(framework, { guard: loadSheddingGuard({ limiter, retryAfterMs: 2_001 }) });
    const client = new AbortController();
    const arrived = server.hung();
    const holding = fetch(`${server.url}/hang`, { signal: client.signal }).catch(() => undefined);
    await arrived;
    expect(limiter.active).toBe(1);

    const shed = await fetch(`${server.url}/echo`);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('3');
    expect(shed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(shed.headers.get('cache-control')).toBe('no-store');
    expect(await shed.json()).toMatchObject({
      type: 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity',
      status: 503,
      title: 'Service Unavailable',
    });

    client.abort(); // the client leaves: its permit must come back
    await holding;
    await expect.poll(() => limiter.active).toBe(0);
    expect((await fetch(`${server.url}/echo`)).status).toBe(200);
  });
});

/** The package's own adapters, one per framework, from the same options. */
const loadSheddingMount = (options: LoadSheddingOptions & { hook?: FastifyGuardHook }): Mount =>
  mountEach(
    { express: expressAdapter.loadShedding, fastify: fastifyAdapter.loadShedding, koa: koaAdapter.loadShedding },
    options,
  );

describe.each(frameworks)('loadShedding from the adapter subpaths: %s', (framework) => {
  it('takes every documented option: retryAfterMs, isDrop, respond, skip (and hook on Fastify)', async () => {
    const limiter = bulkhead({ maxConcurrent: 1 });
    const drops: [number, boolean][] = [];
    server = await serve(framework, {
      mounts: [
        loadSheddingMount({
          limiter,
          retryAfterMs: 6_500,
          isDrop: (status, aborted) => {
            drops.push([status, aborted]);
            return false;
          },
          respond: () => ({ status: 529, headers: { 'retry-after': 7 }, body: { busy: true } }),
          skip: (req) => req.path === '/exempt',
          hook: 'onRequest',
        }),
      ],
    });
    expect((await fetch(`${server.url}/created`)).status).toBe(201);
    await expect.poll(() => drops).toEqual([[201, false]]);
    const client = new AbortController();
    const arrived = server.hung();
    const holding = fetch(`${server.url}/hang`, { signal: client.signal }).catch(() => undefined);
    await arrived;
    const shed = await fetch(`${server.url}/echo`);
    expect(shed.status).toBe(529);
    expect(shed.headers.get('retry-after')).toBe('7');
    expect(await shed.json()).toEqual({ busy: true });
    // Skipped requests take no slot and are never shed.
    expect((await fetch(`${server.url}/exempt`)).status).toBe(200);
    client.abort();
    await holding;
    await expect.poll(() => limiter.active).toBe(0);
    expect(drops.at(-1)).toEqual([expect.any(Number), true]);
  });
});

it("Fastify: every hook the README names boots, a route's config opts out, and a bad hook is a config error", async () => {
  for (const hook of ['onRequest', 'preValidation', 'preHandler'] as const) {
    const limiter = bulkhead({ maxConcurrent: 1 });
    server = await serve('fastify5', {
      mounts: [loadSheddingMount({ limiter, hook })],
      exemptConfig: { loadShedding: false },
    });
    const arrived = server.hung();
    const client = new AbortController();
    const holding = fetch(`${server.url}/hang`, { signal: client.signal }).catch(() => undefined);
    await arrived;
    expect((await fetch(`${server.url}/echo`)).status).toBe(503);
    expect((await fetch(`${server.url}/exempt`)).status).toBe(200);
    client.abort();
    await holding;
    await server.close();
    server = undefined;
  }
  expect(() =>
    fastifyAdapter.loadShedding({ limiter: bulkhead({ maxConcurrent: 1 }), hook: 'onSend' as never }),
  ).toThrow(expect.objectContaining({ code: 'BULWARK_INVALID_CONFIG', field: 'hook' }));
});

it('bad options are named', () => {
  expect(() => loadSheddingGuard({ limiter: {} as never })).toThrow(expect.objectContaining({ field: 'limiter' }));
  expect(() => loadSheddingGuard({ limiter: bulkhead({ maxConcurrent: 1 }), skip: true as never })).toThrow(
    expect.objectContaining({ field: 'skip' }),
  );
});
