import Fastify from 'fastify';
import { parseList } from 'structured-headers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryStore, rateLimitGuard, rateLimiter, rateLimits, type RateLimitOptions } from '@bulwark/rate-limiter';
import * as expressAdapter from '@bulwark/rate-limiter/express';
import * as fastifyAdapter from '@bulwark/rate-limiter/fastify';
import * as koaAdapter from '@bulwark/rate-limiter/koa';
import { redisStore } from '@bulwark/rate-limiter/redis';
import type { Outcome } from '@bulwark/http';
import type { FastifyGuardHook } from '@bulwark/http/fastify';
import { frameworks, mountEach, serve, type Framework, type Mount, type TestServer } from '@bulwark/test-servers';
import { VirtualClock } from '@bulwark/core/testing';
import { manualClock } from './manual-clock.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(framework: Framework, options: RateLimitOptions): Promise<TestServer> {
  server = await serve(framework, { guard: rateLimitGuard(options), stateKeys: ['rateLimit'] });
  return server;
}

/** The RateLimit fields as Structured Field Lists: [name, params] per item. */
function fields(res: Response): {
  policy: [unknown, Record<string, unknown>][];
  limit: [unknown, Record<string, unknown>][];
} {
  const list = (name: string) =>
    parseList(res.headers.get(name) ?? '').map(
      ([value, params]) => [value, Object.fromEntries(params)] as [unknown, Record<string, unknown>],
    );
  return { policy: list('ratelimit-policy'), limit: list('ratelimit') };
}

describe.each(frameworks)('rateLimit on %s', (framework) => {
  it('sends draft-10 headers, then 429 with Retry-After and a problem+json body', async () => {
    const s = await start(framework, { limiter: rateLimiter({ limit: 2, windowMs: 60_000 }) });
    const first = await fetch(`${s.url}/echo`);
    expect(first.status).toBe(200);
    expect(fields(first)).toEqual({
      policy: [['2-in-60s', { q: 2, w: 60 }]],
      limit: [['2-in-60s', { r: 1, t: 30 }]],
    });
    expect(((await first.json()) as { state: { rateLimit: unknown } }).state.rateLimit).toMatchObject({
      allowed: true,
      remaining: 1,
      policy: '2-in-60s',
    });
    expect((await fetch(`${s.url}/echo`)).status).toBe(200);

    const refused = await fetch(`${s.url}/echo`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(fields(refused).limit).toEqual([['2-in-60s', { r: 0, t: 30 }]]);
    expect(await refused.json()).toEqual({
      type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Rate limit 2-in-60s exceeded; retry in 30 s.',
      'violated-policies': ['2-in-60s'],
    });
  });

  it('ignores a spoofed X-Forwarded-For unless a trusted proxy is configured', async () => {
    const s = await start(framework, { limiter: rateLimiter({ limit: 1, windowMs: 60_000 }) });
    const as = (ip: string) => fetch(`${s.url}/echo`, { headers: { 'x-forwarded-for': ip } }).then((r) => r.status);
    expect(await as('198.51.100.1')).toBe(200);
    expect(await as('198.51.100.2')).toBe(429); // same socket address: same client
  });

  it('behind a trusted proxy: IPv6 clients in one /64 share a key, IPv4-mapped addresses count as IPv4', async () => {
    const s = await start(framework, {
      limiter: rateLimiter({ limit: 1, windowMs: 60_000 }),
      clientIp: { trustProxy: ['loopback'] },
    });
    const as = (ip: string) => fetch(`${s.url}/echo`, { headers: { 'x-forwarded-for': ip } }).then((r) => r.status);
    expect(await as('2001:db8:1:2::1')).toBe(200);
    expect(await as('2001:db8:1:2:ffff:eeee:dddd:9')).toBe(429);
    expect(await as('2001:db8:1:3::1')).toBe(200);
    expect(await as('192.0.2.7')).toBe(200);
    expect(await as('::ffff:192.0.2.7')).toBe(429);
    expect(await as('192.0.2.8')).toBe(200); // CVE-2026-30827: other IPv4 clients are not lumped together
  });
});

describe('rateLimit options (Express 5 and Koa 3)', () => {
  it.each(['express5', 'koa3'] as const)(
    '%s: countIf counts only failed requests (e.g. failed logins)',
    async (framework) => {
      const s = await start(framework, {
        limiter: rateLimiter({ limit: 2, windowMs: 60_000 }),
        countIf: (status) => status >= 400,
      });
      for (let i = 0; i < 5; i++) expect((await fetch(`${s.url}/echo`)).status).toBe(200);
      expect((await fetch(`${s.url}/fail`)).status).toBe(500);
      expect((await fetch(`${s.url}/fail`)).status).toBe(500);
      await expect.poll(async () => (await fetch(`${s.url}/echo`)).status).toBe(429);
    },
  );

  it.each(frameworks)('%s: a store whose refund rejects never crashes the process (issue 22)', async (framework) => {
    const memory = memoryStore();
    // A custom store, as the public interface allows: decisions from memory, refunds that fail.
    const failingRefunds = {
      mode: 'async' as const,
      bind(rules: Parameters<typeof memory.bind>[0]) {
        const inner = memory.bind(rules);
        return {
          consume: async (...a: Parameters<typeof inner.consume>) => inner.consume(...a),
          peek: async (...a: Parameters<typeof inner.peek>) => inner.peek(...a),
          refund: () => Promise.reject(new Error('refund store down')),
          reset: async (...a: Parameters<typeof inner.reset>) => inner.reset(...a),
        };
      },
    };
    const unhandled: unknown[] = [];
    const warnings: string[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('unhandledRejection', onUnhandled);
    process.on('warning', onWarning);
    try {
      const s = await start(framework, {
        limiter: rateLimiter({ limit: 5, windowMs: 60_000, store: failingRefunds }),
        countIf: (status) => status < 400,
      });
      expect((await fetch(`${s.url}/fail`)).status).toBe(500);
      await expect.poll(() => warnings.some((w) => w.includes('refund store down'))).toBe(true);
      expect((await fetch(`${s.url}/echo`)).status).toBe(200);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      process.off('warning', onWarning);
    }
  });

  it('requestPropertyName names where the decision goes, or turns it off', () => {
    const view = {
      method: 'GET',
      path: '/',
      url: '/',
      header: () => undefined,
      ip: '192.0.2.1',
      frameworkIp: '192.0.2.1',
      raw: {},
      route: undefined,
      state: () => undefined,
      originalUrl: '/',
      query: {},
      params: undefined,
      body: undefined,
    };
    const stateOf = (requestPropertyName?: string | false) => {
      const guard = rateLimitGuard({ limiter: rateLimiter({ limit: 5, windowMs: 60_000 }), requestPropertyName });
      const outcome = guard(view) as Outcome;
      return { keys: guard.stateKeys, state: outcome.kind === 'next' ? outcome.state : 'refused' };
    };
    expect(stateOf()).toEqual({
      keys: ['rateLimit'],
      state: { rateLimit: expect.objectContaining({ allowed: true, remaining: 4 }) },
    });
    expect(stateOf('quota')).toEqual({
      keys: ['quota'],
      state: { quota: expect.objectContaining({ allowed: true, remaining: 4 }) },
    });
    expect(stateOf(false)).toEqual({ keys: [], state: undefined });
  });

  it('several limits: one item per limit in each field; refused by the tighter one', async () => {
    const store = memoryStore();
    const limiters = [
      rateLimiter({ name: 'burst', algorithm: 'fixed-window', limit: 1, windowMs: 1_000, store }),
      rateLimiter({ name: 'daily', algorithm: 'fixed-window', limit: 100, windowMs: 86_400_000, store }),
    ];
    const s = await start('express5', { limiters });
    const ok = await fetch(`${s.url}/echo`);
    expect(fields(ok).policy).toEqual([
      ['burst', { q: 1, w: 1 }],
      ['daily', { q: 100, w: 86_400 }],
    ]);
    expect(fields(ok).limit.map(([name, p]) => [name, p.r])).toEqual([
      ['burst', 0],
      ['daily', 99],
    ]);
    const refused = await fetch(`${s.url}/echo`);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as Record<string, unknown>)['violated-policies']).toEqual(['burst']);
    expect(fields(refused).limit.map(([name, p]) => [name, p.r])).toEqual([
      ['burst', 0],
      ['daily', 99], // the refused request was not counted
    ]);
  });

  it.each([
    ['draft-6', { 'ratelimit-limit': '1', 'ratelimit-remaining': '0', 'ratelimit-policy': '1;w=60' }],
    ['legacy', { 'x-ratelimit-limit': '1', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '60' }],
    ['draft-7', { ratelimit: 'limit=1, remaining=0, reset=60', 'ratelimit-policy': '1;w=60' }],
    ['draft-8', { ratelimit: '"1-in-60s";r=0;t=60', 'ratelimit-policy': '"1-in-60s";q=1;w=60' }],
  ] as const)('headers: %s', async (kind, expected) => {
    const s = await start('koa3', { limiter: rateLimiter({ limit: 1, windowMs: 60_000 }), headers: kind });
    const res = await fetch(`${s.url}/echo`);
    for (const [name, value] of Object.entries(expected)) expect(res.headers.get(name)).toBe(value);
    if (!('ratelimit' in expected)) expect(res.headers.get('ratelimit')).toBeNull();
  });

  it('draft-7 with several limits: one policy per limit, the binding limit in the dictionary', async () => {
    const store = memoryStore();
    const limiters = [
      rateLimiter({ name: 'burst', algorithm: 'fixed-window', limit: 2, windowMs: 1_000, store }),
      rateLimiter({ name: 'hourly', algorithm: 'fixed-window', limit: 100, windowMs: '1 hour', store }),
    ];
    const s = await start('express5', { limiters, headers: 'draft-7' });
    const res = await fetch(`${s.url}/echo`);
    expect(res.headers.get('ratelimit-policy')).toBe('2;w=1, 100;w=3600');
    expect(res.headers.get('ratelimit')).toBe('limit=2, remaining=1, reset=1');
  });

  it('statusCode and message (text, JSON or a function) replace the 429 problem; a failing store keeps its 503', async () => {
    const limiter = () => rateLimiter({ limit: 1, windowMs: 60_000 });
    const refusal = async (options: Partial<RateLimitOptions>) => {
      const s = await start('koa3', { limiter: limiter(), ...options });
      await fetch(`${s.url}/echo`);
      const res = await fetch(`${s.url}/echo`);
      await s.close();
      server = undefined;
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        body: await res.text(),
        retry: res.headers.get('retry-after'),
      };
    };
    expect(await refusal({ message: 'Too many requests, please try again later.' })).toEqual({
      status: 429,
      type: 'text/plain; charset=utf-8',
      body: 'Too many requests, please try again later.',
      retry: '60',
    });
    expect(await refusal({ statusCode: 503, message: { error: 'busy' } })).toMatchObject({
      status: 503,
      type: expect.stringMatching(/^application\/json/),
      body: '{"error":"busy"}',
    });
    expect(await refusal({ message: (req, d) => ({ path: req.path, policy: d.policy }) })).toMatchObject({
      body: '{"path":"/echo","policy":"1-in-60s"}',
    });
    expect(await refusal({ statusCode: 420 })).toMatchObject({
      status: 420,
      body: expect.stringContaining('"status":420'),
    });

    const failing = { evalsha: () => Promise.reject(new Error('down')), eval: () => Promise.reject(new Error('down')) };
    const store = redisStore({ client: failing, onError: 'closed' });
    const s = await start('koa3', { limiter: rateLimiter({ limit: 5, windowMs: 1_000, store }), message: 'slow down' });
    const res = await fetch(`${s.url}/echo`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it("errorResponseBuilder gets @fastify/rate-limit's context", async () => {
    const contexts: unknown[] = [];
    const s = await start('fastify5', {
      limiter: rateLimiter({ limit: 1, windowMs: 60_000, clock: manualClock() }),
      statusCode: 429,
      errorResponseBuilder: (_req, context) => {
        contexts.push(context);
        return { code: 429, error: 'Too Many Requests', message: `Rate limit exceeded, retry in ${context.after}` };
      },
    });
    await fetch(`${s.url}/echo`);
    const res = await fetch(`${s.url}/echo`);
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({
      code: 429,
      error: 'Too Many Requests',
      message: 'Rate limit exceeded, retry in 60 seconds',
    });
    expect(contexts).toEqual([expect.objectContaining({ statusCode: 429, max: 1, ttl: 60_000, after: '60 seconds' })]);
  });

  it('allowList: addresses and CIDR ranges of the resolved client, or a function of the request and key', async () => {
    const s = await start('express5', {
      limiter: rateLimiter({ limit: 1, windowMs: 60_000 }),
      clientIp: { trustProxy: ['loopback'] },
      allowList: ['10.0.0.0/8', '2001:db8::1'],
    });
    const as = (ip: string) => fetch(`${s.url}/echo`, { headers: { 'x-forwarded-for': ip } }).then((r) => r.status);
    expect([await as('10.1.2.3'), await as('10.1.2.3'), await as('10.9.9.9')]).toEqual([200, 200, 200]);
    expect([await as('2001:db8::1'), await as('2001:db8::1')]).toEqual([200, 200]);
    expect([await as('192.0.2.1'), await as('192.0.2.1')]).toEqual([200, 429]);
    await s.close();

    const keys: string[] = [];
    const t = await start('koa3', {
      limiter: rateLimiter({ limit: 1, windowMs: 60_000 }),
      keyBy: (req) => req.header('x-user'),
      allowList: (_req, key) => {
        keys.push(key);
        return key === 'admin';
      },
    });
    const user = (name: string) => fetch(`${t.url}/echo`, { headers: { 'x-user': name } }).then((r) => r.status);
    expect([await user('admin'), await user('admin'), await user('bob'), await user('bob')]).toEqual([
      200, 200, 200, 429,
    ]);
    expect(keys).toEqual(['admin', 'admin', 'bob', 'bob']);
  });

  it('onExceeding sees every admitted request and onExceeded every refused one, before handler', async () => {
    const seen: string[] = [];
    const s = await start('express4', {
      limiter: rateLimiter({ limit: 2, windowMs: 60_000, clock: manualClock() }),
      onExceeding: (req, d) => seen.push(`ok ${req.path} ${d.remaining}`),
      onExceeded: (req, d) => seen.push(`refused ${req.path} ${d.retryAfterMs}`),
      handler: () => {
        seen.push('handler');
      },
    });
    for (let i = 0; i < 3; i++) await fetch(`${s.url}/echo`);
    expect(seen).toEqual(['ok /echo 1', 'ok /echo 0', 'refused /echo 30000', 'handler']);
  });

  it.each(['express5', 'express4'] as const)(
    '%s: the decision is req.rateLimit as well as res.locals.rateLimit',
    async (framework) => {
      const s = await start(framework, { limiter: rateLimiter({ limit: 5, windowMs: 60_000 }) });
      const body = (await (await fetch(`${s.url}/echo`)).json()) as {
        state: { rateLimit: unknown };
        request: { rateLimit: unknown };
      };
      expect(body.request.rateLimit).toMatchObject({ allowed: true, remaining: 4 });
      expect(body.state.rateLimit).toEqual(body.request.rateLimit);
    },
  );

  it('headers: false sends none, but a 429 still has Retry-After; handler replaces the reply; skip and keyBy', async () => {
    const s = await start('express5', {
      limiter: rateLimiter({ limit: 1, windowMs: 10_000, clock: manualClock() }),
      headers: false,
      keyBy: (req) => req.header('x-api-key'),
      skip: (req) => req.header('x-internal') === 'yes',
      handler: (_req, d) => ({ status: 429, body: { slowDown: d.retryAfterMs } }),
    });
    const call = (headers: Record<string, string>) => fetch(`${s.url}/echo`, { headers });
    expect((await call({ 'x-api-key': 'a' })).headers.get('ratelimit')).toBeNull();
    const refused = await call({ 'x-api-key': 'a' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(await refused.json()).toEqual({ slowDown: 10_000 });
    expect((await call({ 'x-api-key': 'b' })).status).toBe(200);
    expect((await call({ 'x-api-key': 'a', 'x-internal': 'yes' })).status).toBe(200);
    expect((await call({})).status).toBe(200); // no key: not limited
  });

  it('with a Redis store the guard is asynchronous; a failing store with onError closed answers 503', async () => {
    const failing = {
      evalsha: () => Promise.reject(new Error('ECONNREFUSED')),
      eval: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const store = redisStore({ client: failing, onError: 'closed' });
    const s = await start('fastify5', { limiter: rateLimiter({ limit: 5, windowMs: 1_000, store }) });
    const res = await fetch(`${s.url}/echo`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      type: 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity',
    });
  });

  it('a failing store with a memory fallback refuses with 429, not 503: the fallback applied the limit', async () => {
    const failing = {
      evalsha: () => Promise.reject(new Error('ECONNREFUSED')),
      eval: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const store = redisStore({ client: failing, onError: memoryStore() });
    const s = await start('express5', { limiter: rateLimiter({ limit: 2, windowMs: 60_000, store }) });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${s.url}/echo`)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('bad options are named', () => {
    expect(() => rateLimitGuard({})).toThrow(expect.objectContaining({ code: 'BULWARK_INVALID_CONFIG' }));
    expect(() => rateLimitGuard({ limiter: {} as never })).toThrow(/limiter/);
    expect(() =>
      rateLimitGuard({ limiter: rateLimiter({ limit: 1, windowMs: 1 }), headers: 'draft-99' as never }),
    ).toThrow(/headers/);
    const limiter = rateLimiter({ limit: 1, windowMs: '1 minute' });
    expect(() => rateLimitGuard({ limiter, allowList: ['10.0.0.0/33'] })).toThrow(
      expect.objectContaining({ field: 'allowList.0', message: expect.stringContaining('10.0.0.0/33') }),
    );
    expect(() => rateLimitGuard({ limiter, message: 'x', errorResponseBuilder: () => ({}) })).toThrow(
      expect.objectContaining({ field: 'errorResponseBuilder' }),
    );
    expect(() => rateLimitGuard({ limiter, statusCode: 200 })).toThrow(
      expect.objectContaining({ field: 'statusCode' }),
    );
  });
});

/** The package's own adapters, one per framework, from the same options. */
const rateLimitMount = (options: RateLimitOptions & { hook?: FastifyGuardHook }): Mount =>
  mountEach<RateLimitOptions>(
    { express: expressAdapter.rateLimit, fastify: fastifyAdapter.rateLimit, koa: koaAdapter.rateLimit },
    options,
  );

describe.each(frameworks)('rateLimit from the adapter subpaths: %s', (framework) => {
  it('takes every documented option', async () => {
    const limiter = rateLimiter({ name: 'api', limit: 3, windowMs: 60_000 });
    const s = await serve(framework, {
      mounts: [
        rateLimitMount({
          limiter,
          keyBy: (req) => req.header('x-user'),
          clientIp: { trustProxy: 1 },
          ipv6Prefix: 56,
          cost: (req) => (req.path === '/created' ? 2 : 1),
          skip: (req) => req.path === '/exempt',
          headers: 'draft-6',
          handler: (_req, d) => ({ status: 429, body: { limited: d.policy } }),
          countIf: (status) => status < 500,
          requestPropertyName: 'quota',
          hook: 'preHandler',
        }),
      ],
      stateKeys: ['quota'],
    });
    server = s;
    const as = (user: string, path: string) => fetch(`${s.url}${path}`, { headers: { 'x-user': user } });
    expect((await as('a', '/fail')).status).toBe(500); // not counted: countIf
    const echo = await as('a', '/echo');
    expect(echo.headers.get('ratelimit-limit')).toBe('3');
    expect(echo.headers.get('ratelimit-remaining')).toBe('2');
    expect(((await echo.json()) as { state: { quota: { remaining: number } } }).state.quota.remaining).toBe(2);
    expect((await as('a', '/created')).status).toBe(201); // costs 2
    const refused = await as('a', '/echo');
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ limited: 'api' });
    expect((await as('b', '/echo')).status).toBe(200); // keyed by user, not address
    expect((await fetch(`${s.url}/echo`)).status).toBe(200); // no key: not limited
    expect((await as('a', '/exempt')).status).toBe(200); // skipped
  });

  it("takes the anchors' options: allowList, statusCode, message, onExceeding/onExceeded, draft-7, a time string", async () => {
    const seen: string[] = [];
    const s = await serve(framework, {
      mounts: [
        rateLimitMount({
          limiter: rateLimiter({ limit: 1, windowMs: '1 minute', clock: manualClock() }),
          clientIp: { trustProxy: ['loopback'] },
          allowList: ['10.0.0.0/8'],
          statusCode: 503,
          message: { error: 'slow down' },
          headers: 'draft-7',
          onExceeding: (_req, d) => seen.push(`ok ${d.remaining}`),
          onExceeded: (_req, d) => seen.push(`refused ${d.retryAfterMs}`),
        }),
      ],
    });
    server = s;
    const as = (ip: string) => fetch(`${s.url}/echo`, { headers: { 'x-forwarded-for': ip } });
    const ok = await as('192.0.2.1');
    expect(ok.headers.get('ratelimit')).toBe('limit=1, remaining=0, reset=60');
    const refused = await as('192.0.2.1');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(await refused.json()).toEqual({ error: 'slow down' });
    expect([(await as('10.1.1.1')).status, (await as('10.1.1.1')).status]).toEqual([200, 200]);
    expect(seen).toEqual(['ok 0', 'refused 60000']);
  });

  it("clientIp: 'framework' keys by the address the framework resolves under its own proxy trust", async () => {
    for (const trustProxy of [true, false]) {
      const s = await serve(framework, {
        trustProxy,
        mounts: [rateLimitMount({ limiter: rateLimiter({ limit: 1, windowMs: 60_000 }), clientIp: 'framework' })],
      });
      server = s;
      const from = (ip: string) => fetch(`${s.url}/echo`, { headers: { 'x-forwarded-for': ip } }).then((r) => r.status);
      // Trusted: two forwarded clients are two keys. Not trusted: the header is ignored, one socket is one key.
      expect([await from('198.51.100.1'), await from('198.51.100.2'), await from('198.51.100.1')]).toEqual(
        trustProxy ? [200, 200, 429] : [200, 429, 429],
      );
      await s.close();
      server = undefined;
    }
  });

  it('accepts a limiter made by another copy of the package (the ESM build next to the CJS one)', async () => {
    const limiter = rateLimiter({ limit: 1, windowMs: 60_000 });
    vi.resetModules();
    const copy = {
      express: (await import('@bulwark/rate-limiter/express')).rateLimit,
      fastify: (await import('@bulwark/rate-limiter/fastify')).rateLimit,
      koa: (await import('@bulwark/rate-limiter/koa')).rateLimit,
    };
    expect(copy.express).not.toBe(expressAdapter.rateLimit);
    const s = await serve(framework, {
      mounts: [{ express: copy.express({ limiter }), fastify: copy.fastify({ limiter }), koa: copy.koa({ limiter }) }],
    });
    server = s;
    expect((await fetch(`${s.url}/echo`)).status).toBe(200);
    expect((await fetch(`${s.url}/echo`)).status).toBe(429);
  });
});

it('the Redis store takes a memoryStore() from another copy of the package as its onError fallback', async () => {
  vi.resetModules();
  const other = await import('@bulwark/rate-limiter');
  const fallback = other.memoryStore();
  expect(fallback).not.toBeInstanceOf(memoryStore().constructor as never);
  const failing = {
    evalsha: () => Promise.reject(new Error('ECONNREFUSED')),
    eval: () => Promise.reject(new Error('ECONNREFUSED')),
  };
  const limiter = rateLimiter({
    limit: 1,
    windowMs: 60_000,
    store: redisStore({ client: failing, onError: fallback }),
  });
  expect(await limiter.consume('k')).toMatchObject({ allowed: true });
  expect(await limiter.consume('k')).toMatchObject({ allowed: false }); // the local fallback decided
});

it("Fastify: a route's config.rateLimit false opts out of the root plugin, and a bad hook is a config error", async () => {
  const limiter = rateLimiter({ limit: 1, windowMs: 60_000 });
  server = await serve('fastify5', { mounts: [rateLimitMount({ limiter })], exemptConfig: { rateLimit: false } });
  expect((await fetch(`${server.url}/echo`)).status).toBe(200);
  expect((await fetch(`${server.url}/echo`)).status).toBe(429);
  expect((await fetch(`${server.url}/exempt`)).status).toBe(200);
  expect(() => fastifyAdapter.rateLimit({ limiter, hook: 'onResponse' as never })).toThrow(
    expect.objectContaining({ code: 'BULWARK_INVALID_CONFIG', field: 'hook' }),
  );
});

describe('Fastify per-route limits (compiled at boot in onRoute)', () => {
  it('limits only routes that declare config.rateLimit, each with its own limiter', async () => {
    const app = Fastify();
    await app.register(fastifyAdapter.rateLimitRoutes({ headers: 'draft-6' }));
    const login = rateLimiter({ name: 'login', limit: 1, windowMs: 60_000 });
    app.post('/login', { config: { rateLimit: { limiter: login } } }, async (request) => ({ d: request.rateLimit }));
    app.get('/free', async () => 'free');
    try {
      const first = await app.inject({ method: 'POST', url: '/login' });
      expect(first.statusCode).toBe(200);
      expect(first.headers['ratelimit-limit']).toBe('1');
      expect(first.json().d).toMatchObject({ allowed: true, policy: 'login' });
      expect((await app.inject({ method: 'POST', url: '/login' })).statusCode).toBe(429);
      for (let i = 0; i < 3; i++) {
        const free = await app.inject({ method: 'GET', url: '/free' });
        expect(free.statusCode).toBe(200);
        expect(free.headers['ratelimit-limit']).toBeUndefined();
      }
    } finally {
      await app.close();
    }
  });

  it('rateLimits of two limiters can be shared across routes', async () => {
    const store = memoryStore();
    const limiter = rateLimits([
      rateLimiter({ name: 's', limit: 1, windowMs: 1_000, store }),
      rateLimiter({ name: 'm', limit: 5, windowMs: 60_000, store }),
    ]);
    const app = Fastify();
    await app.register(fastifyAdapter.rateLimit({ limiter }));
    app.get('/a', async () => 'a');
    app.get('/b', async () => 'b');
    try {
      expect((await app.inject({ url: '/a' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/b' })).statusCode).toBe(429);
    } finally {
      await app.close();
    }
  });
});

describe('redisStore timing runs on its injected clock', () => {
  it('times out a call that never answers, and backs off, on a VirtualClock with no real waiting', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const frozen = {
      evalsha: () => {
        calls++;
        return new Promise<never>(() => {});
      },
      eval: () => new Promise<never>(() => {}),
    };
    const store = redisStore({
      client: frozen,
      onError: 'closed',
      timeoutMs: 200,
      errorBackoffMs: 1_000,
      batch: false,
      clock,
    });
    const limiter = rateLimiter({ limit: 5, windowMs: 1_000, store, clock });
    let decided: unknown;
    void limiter.consume('k').then((d) => (decided = d));
    await clock.advance(199);
    expect(decided).toBeUndefined();
    await clock.advance(1);
    await new Promise((resolve) => setImmediate(resolve)); // a turn for the answer, far less than the 200 ms timeout
    expect(decided).toMatchObject({ allowed: false });
    // Within the backoff the store is not asked; after it, it is.
    await expect(limiter.consume('k')).resolves.toMatchObject({ allowed: false });
    expect(calls).toBe(1);
    await clock.advance(1_000);
    void limiter.consume('k');
    expect(calls).toBe(2);
    await clock.runAll();
  });
});
