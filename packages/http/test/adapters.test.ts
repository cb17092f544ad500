import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Guard, Outcome, RequestView } from '@bulwark/http';
import diagnosticsChannel from 'node:diagnostics_channel';
import { PassThrough } from 'node:stream';
import { authorizeEndpoints, NEXT, refusalChannel, requestIdGuard, type RefusalEvent } from '@bulwark/http';
import Fastify from 'fastify';
import { requestId as expressRequestId, toExpress } from '@bulwark/http/express';
import { requestId as fastifyRequestId, toFastifyRoutes } from '@bulwark/http/fastify';
import { requestId as koaRequestId, toKoa } from '@bulwark/http/koa';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { frameworks, serve, type TestServer } from '@bulwark/test-servers';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Waits until `fn` has been called `n` times (the `after` hook runs on the server's own schedule). */
async function calledTimes(fn: ReturnType<typeof vi.fn>, n: number) {
  await vi.waitFor(() => expect(fn).toHaveBeenCalledTimes(n), { timeout: 5_000, interval: 5 });
}

describe.each(frameworks)('adapter contract: %s', (framework) => {
  const sync =
    (outcome: Outcome): Guard =>
    () =>
      outcome;
  const async =
    (outcome: Outcome): Guard =>
    async () =>
      outcome;

  it.each([
    ['sync', sync],
    ['async', async],
  ] as const)('%s next: writes headers and attaches state for the route', async (_, make) => {
    server = await serve(framework, {
      guard: make({ kind: 'next', headers: { 'x-guarded': 'yes', 'x-count': 3 }, state: { tenant: 'acme' } }),
      stateKeys: ['tenant'],
    });
    const res = await fetch(`${server.url}/echo`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-guarded')).toBe('yes');
    expect(res.headers.get('x-count')).toBe('3');
    expect(await res.json()).toMatchObject({ state: { tenant: 'acme' } });
  });

  it.each([
    ['sync', sync],
    ['async', async],
  ] as const)('%s respond: short-circuits the route with status, headers and a JSON body', async (_, make) => {
    server = await serve(framework, {
      guard: make({
        kind: 'respond',
        status: 429,
        headers: { 'retry-after': 7, 'content-type': 'application/problem+json' },
        body: { type: 'about:blank', title: 'Too Many Requests' },
      }),
    });
    const res = await fetch(`${server.url}/created`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    // The type given is the type sent, on every framework (Fastify would append "; charset=utf-8").
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toEqual({ type: 'about:blank', title: 'Too Many Requests' });
  });

  it('respond with a stream: sent as it is written, destroyed when the client goes away', async () => {
    const stream = new PassThrough();
    const destroyed = new Promise<void>((resolve) => stream.once('close', resolve));
    server = await serve(framework, {
      guard: (req) =>
        req.path === '/events'
          ? {
              kind: 'respond',
              status: 200,
              headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store' },
              body: stream,
            }
          : NEXT,
    });
    stream.write('data: one\n\n'); // Koa sends the head with the first chunk
    const controller = new AbortController();
    const res = await fetch(`${server.url}/events`, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (expected: string) => {
      while (!text.includes(expected)) text += decoder.decode((await reader.read()).value);
    };
    await until('data: one\n\n');
    stream.write('data: two\n\n'); // written after the response began: streamed, not buffered to the end
    await until('data: two\n\n');
    controller.abort();
    await destroyed;
    expect(stream.destroyed).toBe(true);
    expect((await fetch(`${server.url}/echo`)).status).toBe(200); // the server goes on
  });

  it('publishes each guard refusal on bulwark:http:refusal with the request and the reply', async () => {
    const seen: RefusalEvent[] = [];
    const listener = (message: unknown) => void seen.push(message as RefusalEvent);
    diagnosticsChannel.subscribe(refusalChannel.name, listener);
    try {
      server = await serve(framework, {
        guard: (req) => (req.path === '/echo' ? { kind: 'respond', status: 429, headers: { 'retry-after': 1 } } : NEXT),
      });
      expect((await fetch(`${server.url}/echo?x=1`)).status).toBe(429);
      expect((await fetch(`${server.url}/created`)).status).toBe(201);
    } finally {
      diagnosticsChannel.unsubscribe(refusalChannel.name, listener);
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]!.reply).toMatchObject({ kind: 'respond', status: 429 });
    expect([seen[0]!.request.method, seen[0]!.request.originalUrl]).toEqual(['GET', '/echo?x=1']);
  });

  it('respond: a string body is sent as text/plain', async () => {
    server = await serve(framework, { guard: sync({ kind: 'respond', status: 503, body: 'shedding load' }) });
    const res = await fetch(`${server.url}/echo`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('shedding load');
  });

  it('after: runs once with the final status the route chose', async () => {
    const after = vi.fn();
    server = await serve(framework, { guard: sync({ kind: 'next', after }) });
    const res = await fetch(`${server.url}/created`);
    expect(res.status).toBe(201);
    await res.text();
    await calledTimes(after, 1);
    expect(after).toHaveBeenCalledWith(201, false);
  });

  it('after: runs once, marked aborted, when the client goes away mid-request', async () => {
    const after = vi.fn();
    server = await serve(framework, { guard: sync({ kind: 'next', after }) });
    const client = new AbortController();
    const arrived = server.hung();
    const request = fetch(`${server.url}/hang`, { signal: client.signal }).catch((e: unknown) => e);
    await arrived;
    client.abort();
    expect(await request).toBeInstanceOf(Error);
    await calledTimes(after, 1);
    expect(after.mock.calls[0]![1]).toBe(true);
  });

  it.each([
    [
      'thrown',
      () => {
        throw new Error('guard exploded');
      },
    ],
    ['rejected', () => Promise.reject(new Error('guard exploded'))],
  ] as const)('errors %s by a guard reach the framework error handler', async (_, guard) => {
    server = await serve(framework, { guard });
    const res = await fetch(`${server.url}/echo`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ handled: 'guard exploded' });
  });

  it('the guard sees method, path, url, headers and the socket address', async () => {
    let seen: Partial<RequestView> & { ua?: string } = {};
    server = await serve(framework, {
      guard: (req) => {
        seen = { method: req.method, path: req.path, url: req.url, ip: req.ip, ua: req.header('user-agent') };
        return { kind: 'next' };
      },
    });
    await (await fetch(`${server.url}/echo?x=1`, { headers: { 'user-agent': 'contract-test' } })).text();
    expect(seen).toEqual({ method: 'GET', path: '/echo', url: '/echo?x=1', ip: '127.0.0.1', ua: 'contract-test' });
  });

  it('endpoints: GET and HEAD answered, a child segment decoded, other paths and methods passed on', async () => {
    server = await serve(framework, {
      endpointsPrefix: '/ops',
      endpoints: [
        { path: '/livez', handler: () => ({ status: 200, headers: { 'cache-control': 'no-store' }, body: 'ok' }) },
        {
          path: '/readyz',
          handler: async (req) => ({ status: 503, body: { path: req.path } }),
          child: (_req, name) => ({ status: 200, body: { name } }),
        },
      ],
    });
    const live = await fetch(`${server.url}/ops/livez`);
    expect([live.status, live.headers.get('cache-control'), await live.text()]).toEqual([200, 'no-store', 'ok']);
    const head = await fetch(`${server.url}/ops/livez`, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    expect((await fetch(`${server.url}/ops/readyz`)).status).toBe(503);
    expect(await (await fetch(`${server.url}/ops/readyz/db%20main`)).json()).toEqual({ name: 'db main' });
    // Not ours: the framework's own 404, or the next route.
    expect((await fetch(`${server.url}/ops/readyz/a/b`)).status).toBe(404);
    expect((await fetch(`${server.url}/ops/livez`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${server.url}/livez`)).status).toBe(404);
    expect((await fetch(`${server.url}/created`)).status).toBe(201);
  });

  it('route handlers answer through the same writer', async () => {
    server = await serve(framework, {
      handler: async (req) => ({ status: 202, headers: { 'x-handler': req.method }, body: { ok: true } }),
    });
    const res = await fetch(`${server.url}/handled`);
    expect(res.status).toBe(202);
    expect(res.headers.get('x-handler')).toBe('GET');
    expect(await res.json()).toEqual({ ok: true });
  });

  it('requestId from the adapter subpaths takes every documented option', async () => {
    let n = 0;
    const options = {
      header: 'x-correlation-id',
      trustIncoming: false,
      maxLength: 8,
      generate: () => `gen-${++n}`,
      requestPropertyName: 'cid',
    };
    server = await serve(framework, {
      mounts: [{ express: expressRequestId(options), fastify: fastifyRequestId(options), koa: koaRequestId(options) }],
      stateKeys: ['cid'],
    });
    const res = await fetch(`${server.url}/echo`, { headers: { 'x-correlation-id': 'abc' } }); // not trusted: replaced
    expect(res.headers.get('x-correlation-id')).toBe('gen-1');
    const body = (await res.json()) as { state: unknown; request?: unknown };
    expect(body.state).toEqual({ cid: 'gen-1' });
    // Express: the declared property is on `req` too (`req.cid`), where Fastify has it on `request`.
    if (framework.startsWith('express')) expect(body.request).toEqual({ cid: 'gen-1' });
  });

  it('state(key): a guard reads what an earlier guard set, wherever the framework keeps it', async () => {
    const reader = Object.assign(
      (req: RequestView): Outcome => ({ kind: 'next', state: { seenId: req.state('requestId') ?? null } }),
      {
        stateKeys: ['seenId'],
      },
    );
    server = await serve(framework, {
      mounts: [{ express: expressRequestId(), fastify: fastifyRequestId(), koa: koaRequestId() }],
      guard: reader,
      stateKeys: ['seenId'],
    });
    const res = await fetch(`${server.url}/echo`, { headers: { 'x-request-id': 'req-77' } });
    expect(await res.json()).toMatchObject({ state: { seenId: 'req-77' } });
    const fresh = await fetch(`${server.url}/echo`);
    expect(await fresh.json()).toMatchObject({ state: { seenId: fresh.headers.get('x-request-id') } });
  });

  it('requestId: keeps a well-formed incoming id, replaces a malformed one, echoes and exposes it', async () => {
    server = await serve(framework, { guard: requestIdGuard(), stateKeys: ['requestId'] });
    const kept = await fetch(`${server.url}/echo`, { headers: { 'x-request-id': 'abc-123_DEF.4:5' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123_DEF.4:5');
    expect(await kept.json()).toMatchObject({ state: { requestId: 'abc-123_DEF.4:5' } });

    const bad = await fetch(`${server.url}/echo`, { headers: { 'x-request-id': 'evil\tvalue<script>' } });
    const id = bad.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await bad.json()).toMatchObject({ state: { requestId: id } });

    const fresh = await fetch(`${server.url}/echo`);
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('fastify hook choice', () => {
  it.each(['onRequest', 'preValidation', 'preHandler'] as const)('runs the guard in %s', async (hook) => {
    server = await serve('fastify5', { guard: () => ({ kind: 'respond', status: 418 }), fastifyHook: hook });
    expect((await fetch(`${server.url}/echo`)).status).toBe(418);
  });
});

describe('fastify per-route guards (toFastifyRoutes)', () => {
  it('builds one guard per route at boot from its config; routes without one are untouched; state is declared', async () => {
    const built: string[] = [];
    const app = Fastify();
    await app.register(
      toFastifyRoutes(
        (route) => {
          const config: unknown = route.config;
          const tag = typeof config === 'object' && config !== null && 'tag' in config ? String(config.tag) : undefined;
          if (tag === undefined) return undefined;
          built.push(`${String(route.method)} ${route.url}`);
          return () =>
            tag === 'deny' ? { kind: 'respond', status: 403, body: 'no' } : { kind: 'next', state: { tag } };
        },
        { name: 'tags', state: ['tag'] },
      ),
    );
    app.get('/deny', { config: { tag: 'deny' } as never }, async () => 'reached');
    app.get(
      '/tagged',
      { config: { tag: 'hello' } as never, onRequest: [(_q, _r, done) => done()] },
      async (request) => ({
        tag: (request as unknown as { tag: unknown }).tag,
      }),
    );
    app.get('/plain', async (request) => ({ tag: (request as unknown as { tag: unknown }).tag }));
    try {
      // Fastify adds a HEAD route for each GET route: both are guarded
      expect(built).toEqual(['GET /deny', 'HEAD /deny', 'GET /tagged', 'HEAD /tagged']);
      expect((await app.inject({ url: '/deny' })).statusCode).toBe(403);
      expect((await app.inject({ url: '/tagged' })).json()).toEqual({ tag: 'hello' });
      expect((await app.inject({ url: '/plain' })).json()).toEqual({ tag: null });
    } finally {
      await app.close();
    }
  });
});

describe('authorizeEndpoints', () => {
  it('answers allowed requests, refuses others with 403 (sync or async), and guards children like their parent', async () => {
    const seen: string[] = [];
    const [sync, async] = [false, true].map(
      (isAsync) =>
        authorizeEndpoints(
          [
            {
              path: '/ops',
              handler: () => ({ status: 200, body: 'ok' }),
              child: (_req, name) => ({ status: 200, body: name }),
            },
          ],
          (req, endpoint) => {
            seen.push(endpoint.path);
            const ok = req.header('authorization') === 'Bearer ops';
            return isAsync ? Promise.resolve(ok) : ok;
          },
        )[0]!,
    );
    const req = (authorization?: string) => ({ header: () => authorization }) as unknown as RequestView;
    for (const endpoint of [sync!, async!]) {
      expect(await endpoint.handler(req('Bearer ops'))).toMatchObject({ status: 200, body: 'ok' });
      expect(await endpoint.handler(req())).toEqual({
        status: 403,
        headers: { 'cache-control': 'no-store' },
        body: 'forbidden',
      });
      expect(await endpoint.child!(req('Bearer ops'), 'db')).toMatchObject({ body: 'db' });
      expect((await endpoint.child!(req('Bearer x'), 'db')).status).toBe(403);
    }
    expect(seen).toEqual(Array(8).fill('/ops'));
  });
});

describe('koa: a guard after the headers went out', () => {
  it.each([
    ['next', { kind: 'next', headers: { 'x-late': 'yes' } }],
    ['respond', { kind: 'respond', status: 429, headers: { 'x-late': 'yes' }, body: 'late' }],
  ] as const)('%s: sets nothing and the response completes, as ctx.set would', async (_, outcome: Outcome) => {
    const app = new Koa();
    const errors: unknown[] = [];
    app.on('error', (error: unknown) => errors.push(error));
    app.use(async (ctx, next) => {
      ctx.status = 200;
      ctx.res.flushHeaders();
      await next();
      ctx.respond = false;
      ctx.res.end('done');
    });
    app.use(toKoa(() => outcome));
    const http = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => http.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`);
      expect(await res.text()).toBe('done');
      expect(res.headers.get('x-late')).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });
});

describe('hot path', () => {
  it('a synchronous guard continues synchronously: no promise, next() called before any microtask', () => {
    const next = vi.fn();
    const res = { locals: {}, setHeader: vi.fn() };
    const mw = toExpress(() => ({ kind: 'next', headers: { a: '1' } }));
    const returned = mw(
      { path: '/', originalUrl: '/', method: 'GET', headers: {}, socket: {} } as never,
      res as never,
      next,
    );
    expect(returned).toBeUndefined();
    expect(next).toHaveBeenCalledTimes(1);
    expect(res.setHeader).toHaveBeenCalledWith('a', '1');
  });

  it('requestId rejects bad options naming the field', () => {
    expect(() => requestIdGuard({ header: 'bad header' })).toThrow(expect.objectContaining({ field: 'header' }));
    expect(() => requestIdGuard({ maxLength: 0 })).toThrow(expect.objectContaining({ field: 'maxLength' }));
  });
});
