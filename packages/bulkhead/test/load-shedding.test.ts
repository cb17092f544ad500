import { afterEach, describe, expect, it } from 'vitest';
import { bulkhead, loadSheddingGuard } from '@bulwark/bulkhead';
import * as expressAdapter from '@bulwark/bulkhead/express';
import * as fastifyAdapter from '@bulwark/bulkhead/fastify';
import * as koaAdapter from '@bulwark/bulkhead/koa';
import { frameworks, serve, type TestServer } from '@bulwark/test-servers';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe.each(frameworks)('load shedding: %s', (framework) => {
  it('sheds with 503, Retry-After and a problem body while full, and admits again once the slot frees', async () => {
    const limiter = bulkhead({ maxConcurrent: 1 });
    server = await serve(framework, { guard: loadSheddingGuard({ limiter, retryAfterSeconds: 3 }) });
    const client = new AbortController();
    const arrived = server.hung();
    const holding = fetch(`${server.url}/hang`, { signal: client.signal }).catch(() => undefined);
    await arrived;
    expect(limiter.active).toBe(1);

    const shed = await fetch(`${server.url}/echo`);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('3');
    expect(shed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await shed.json()).toMatchObject({ status: 503, title: 'Service overloaded' });

    client.abort(); // the client leaves: its permit must come back
    await holding;
    await expect.poll(() => limiter.active).toBe(0);
    expect((await fetch(`${server.url}/echo`)).status).toBe(200);
  });
});

it('each adapter subpath exports loadShedding', () => {
  for (const adapter of [expressAdapter, fastifyAdapter, koaAdapter]) expect(typeof adapter.loadShedding).toBe('function');
  expect(() => loadSheddingGuard({ limiter: {} as never })).toThrow(expect.objectContaining({ field: 'limiter' }));
});
