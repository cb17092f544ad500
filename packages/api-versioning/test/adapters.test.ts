import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { toExpressEndpoints } from '@bulwark/http/express';
import { toFastifyEndpoints } from '@bulwark/http/fastify';
import { toKoaEndpoints } from '@bulwark/http/koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type Listening } from '@bulwark/test-servers';
import { createVersioning, headerVersion, uriVersion, versionChange } from '../src/index.js';
import * as onExpress from '../src/express.js';
import * as onFastify from '../src/fastify.js';
import * as onKoa from '../src/koa.js';

const rename = (o: unknown, from: string, to: string) => {
  if (typeof o !== 'object' || o === null || !(from in o)) return o;
  const { [from]: value, ...rest } = o as Record<string, unknown>;
  return { ...rest, [to]: value };
};
const versioning = createVersioning({
  versions: [
    {
      version: '1',
      deprecatedAt: '2026-01-01T00:00:00Z',
      sunsetAt: '2099-01-01T00:00:00Z',
      deprecationLink: 'https://docs.example.com/v1',
    },
    { version: '2', deprecatedAt: '2020-01-01T00:00:00Z', sunsetAt: '2021-06-01T00:00:00Z' },
    { version: '3' },
  ],
  extract: [uriVersion(), headerVersion()],
  defaultVersion: 'latest',
  changes: [
    versionChange({
      version: '3',
      description: 'name is now fullName',
      request: ({ body }) => ({ body: rename(body, 'name', 'fullName') }),
      response: (body) => rename(body, 'fullName', 'name'),
    }),
  ],
});
const legacy = { deprecatedAt: '2026-02-01T00:00:00Z', sunsetAt: '2099-01-01T00:00:00Z' };
const deprecations = [versioning.deprecationsEndpoint('/deprecations')];

async function start(name: string): Promise<Listening> {
  if (name === 'express') {
    const app = express();
    app.use(express.json());
    app.use(onExpress.apiVersioning(versioning));
    app.use(toExpressEndpoints(deprecations));
    app.get('/users/:id', (req, res) => void res.json({ id: req.params.id, version: req.apiVersion, fullName: 'Ada' }));
    app.post(
      '/users',
      (req, res) => void res.status(201).json({ fullName: (req.body as { fullName?: string }).fullName }),
    );
    app.get('/legacy', onExpress.deprecateRoute(legacy), (_req, res) => void res.send('old'));
    return listen(app);
  }
  if (name === 'fastify') {
    const app = Fastify({ rewriteUrl: onFastify.fastifyRewriteUrl(versioning) });
    await app.register(onFastify.apiVersioning(versioning));
    await app.register(onFastify.deprecatedRoutes());
    await app.register(toFastifyEndpoints(deprecations));
    app.get('/users/:id', async (request) => ({
      id: (request.params as { id: string }).id,
      version: request.apiVersion,
      fullName: 'Ada',
    }));
    app.post('/users', async (request, reply) =>
      reply.code(201).send({ fullName: (request.body as { fullName?: string }).fullName }),
    );
    app.get('/legacy', { config: { deprecated: legacy } }, async () => 'old');
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  }
  const app = new Koa();
  app.use(bodyParser());
  app.use(onKoa.apiVersioning(versioning));
  app.use(toKoaEndpoints(deprecations));
  const router = new Router();
  router.get('/users/:id', (ctx) => {
    ctx.body = { id: ctx.params.id, version: ctx.state.apiVersion, fullName: 'Ada' };
  });
  router.post('/users', (ctx) => {
    ctx.status = 201;
    ctx.body = { fullName: (ctx.request.body as { fullName?: string }).fullName };
  });
  router.get('/legacy', onKoa.deprecateRoute(legacy), (ctx) => {
    ctx.body = 'old';
  });
  app.use(router.routes());
  return listen(app.callback());
}

describe.each(['express', 'fastify', 'koa'])('api versioning on %s', (name) => {
  let server: Listening;
  beforeAll(async () => {
    server = await start(name);
  });
  afterAll(() => server.close());

  it('routes /v3/users/7 as /users/7 on the newest version, without deprecation headers, with Vary', async () => {
    const res = await fetch(`${server.url}/v3/users/7`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: '7', version: '3', fullName: 'Ada' });
    expect(res.headers.get('deprecation')).toBeNull();
    expect(res.headers.get('vary')).toContain('x-api-version');
  });

  it('serves a deprecated version through the change, with Deprecation, Sunset and Link', async () => {
    const res = await fetch(`${server.url}/v1/users/7`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: '7', version: '1', name: 'Ada' });
    expect(res.headers.get('deprecation')).toBe(`@${Date.parse('2026-01-01T00:00:00Z') / 1000}`);
    expect(res.headers.get('sunset')).toBe('Thu, 01 Jan 2099 00:00:00 GMT');
    expect(res.headers.get('link')).toBe('<https://docs.example.com/v1>; rel="deprecation"; type="text/html"');
  });

  it('translates an old request body up and the response back down', async () => {
    const res = await fetch(`${server.url}/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bob' }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ name: 'Bob' });
    const current = await fetch(`${server.url}/v3/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fullName: 'Bob' }),
    });
    expect(await current.json()).toEqual({ fullName: 'Bob' });
  });

  it('answers 410 after a sunset and 404 for a version that never was, as problem+json', async () => {
    const gone = await fetch(`${server.url}/v2/users/7`);
    expect(gone.status).toBe(410);
    expect(gone.headers.get('content-type')).toContain('application/problem+json');
    expect(await gone.json()).toMatchObject({ status: 410, version: '2', latest: '3' });
    const never = await fetch(`${server.url}/v9/users/7`);
    expect(never.status).toBe(404);
    expect(await never.json()).toMatchObject({ requested: '9', supported: ['1', '2', '3'] });
  });

  it('takes the version from the header, and defaults to the latest', async () => {
    const byHeader = await fetch(`${server.url}/users/7`, { headers: { 'x-api-version': '1' } });
    expect(await byHeader.json()).toMatchObject({ version: '1', name: 'Ada' });
    expect(await (await fetch(`${server.url}/users/7`)).json()).toMatchObject({ version: '3' });
    expect((await fetch(`${server.url}/users/7`, { headers: { 'x-api-version': '7' } })).status).toBe(400);
  });

  it('deprecates one route, and serves the deprecations registry', async () => {
    const res = await fetch(`${server.url}/legacy`);
    expect(await res.text()).toBe('old');
    expect(res.headers.get('deprecation')).toBe(`@${Date.parse('2026-02-01T00:00:00Z') / 1000}`);
    const list = await (await fetch(`${server.url}/deprecations`)).json();
    expect(list).toMatchObject({
      latest: '3',
      deprecations: [
        { version: '1', status: 'deprecated', changes: ['3: name is now fullName'] },
        { version: '2', status: 'sunset' },
      ],
    });
  });
});
