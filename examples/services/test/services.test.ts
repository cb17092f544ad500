import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { faultProxy, flakyUpstream } from '@bulwark/testing';
import { expressApp } from '../src/express.js';
import { fastifyApp } from '../src/fastify.js';
import { koaApp } from '../src/koa.js';
import { createService } from '../src/service.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function boot(framework: 'express' | 'fastify' | 'koa', limit: number) {
  const redisUrl = new URL(REDIS_URL);
  // Redis behind a proxy, so a test can take it away.
  const proxy = await faultProxy({ port: Number(redisUrl.port || 6379), host: redisUrl.hostname });
  const redis = new Redis({ port: proxy.port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false });
  redis.on('error', () => {}); // a cut link: the store reports it through its onError policy
  await new Promise((resolve) => redis.once('ready', resolve));
  const upstream = await flakyUpstream(['error'], { fallback: 'ok' });
  const service = createService({
    redis,
    upstreamUrl: upstream.url,
    limit,
    redisPrefix: `bulwark:example:${framework}:${Date.now()}:${Math.random()}:`,
  });
  let server: Server;
  if (framework === 'fastify') {
    const app = await fastifyApp(service);
    await app.listen({ port: 0, host: '127.0.0.1' });
    server = app.server;
    cleanup.push(() => app.close());
  } else {
    const handle = framework === 'koa' ? koaApp(service).callback() : expressApp(service);
    server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
  }
  cleanup.push(
    () => service.close(),
    () => upstream.close(),
    () => void redis.disconnect(),
    () => proxy.stop(),
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = (path: string, init: RequestInit = {}) => fetch(base + path, init);
  return { service, proxy, upstream, call };
}

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe.each(['express', 'fastify', 'koa'] as const)('the example service on %s (real sockets, real Redis)', (fw) => {
  it('serves every package: request id, outbound policy, versions, sanitising, flags, probes, metrics', async () => {
    const { call, upstream } = await boot(fw, 100);
    const who = await call('/whoami', { headers: { 'x-request-id': 'req-7', 'x-user': 'ann' } });
    expect(await who.json()).toEqual({ requestId: 'req-7', user: 'ann' });
    // The upstream fails once: the retry inside the composed policy gets the second answer.
    const quote = await call('/quote');
    expect(quote.status).toBe(200);
    expect(await quote.json()).toEqual({ n: 2 });
    expect(upstream.served()).toBe(2);
    // v1 speaks `name`, v2 `title`; the title is cleaned (a bidi override removed).
    const v1 = await call('/v1/notes', json({ name: 'Groceries\u202e' }));
    expect(v1.status).toBe(201);
    expect(await v1.json()).toMatchObject({ name: 'Groceries' });
    expect(v1.headers.get('deprecation')).toMatch(/^@\d+$/);
    const v2 = await call('/v2/notes', json({ title: 'Plans' }));
    expect(await v2.json()).toMatchObject({ title: 'Plans' });
    expect(v2.headers.get('deprecation')).toBeNull();
    const invalid = await call('/v2/notes', json({ title: '', extra: 'never echoed' }));
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).not.toContain('never echoed');
    expect((await call('/beta', { headers: { 'x-user': 'alice' } })).status).toBe(200);
    expect((await call('/beta', { headers: { 'x-user': 'bob' } })).status).toBe(404);
    expect((await call('/readyz')).status).toBe(200);
    const metrics = await (await call('/metrics')).text();
    expect(metrics).toMatch(/bulwark_retry_attempts_total\{[^}]*\} 1/); // the one retry of /quote
    expect(metrics).toMatch(/bulwark_ratelimit_decisions_total\{[^}]*name="per-client"/);
    expect(metrics).toMatch(/bulwark_flag_evaluations_total\{[^}]*flag="beta-notes"/);
    // The live status page, for operators only.
    expect((await call('/bulwark')).status).toBe(403);
    const status = await call('/bulwark/status.json', { headers: { authorization: 'Bearer operator' } });
    expect(status.status).toBe(200);
    const page = await call('/bulwark', { headers: { authorization: 'Bearer operator' } });
    expect(await page.text()).toContain('<title>Bulwark status</title>');
  });

  it('limits in Redis (shared by every instance) and audits each refusal with its request id', async () => {
    const { call, service } = await boot(fw, 3);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call('/whoami', { headers: { 'x-request-id': `r${i}` } })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refusal = service.auditSink.records().find((r) => r.event.startsWith('excess_rate_limit_exceeded'));
    expect(refusal).toMatchObject({ request_id: 'r3', status: 429, source_ip: '127.0.0.1' });
  });

  it('keeps limiting from memory when Redis goes away, refusing with 429, not failing', async () => {
    const { call, proxy } = await boot(fw, 3);
    expect((await call('/whoami')).status).toBe(200); // counted in Redis
    proxy.close(); // Redis goes away: each instance limits on its own, from zero
    const after: number[] = [];
    for (let i = 0; i < 4; i++) after.push((await call('/whoami')).status);
    expect(after).toEqual([200, 200, 200, 429]);
  });
});
