import Router from '@koa/router';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '@bulwark/test-servers';
import { featureFlags, type FlagsMiddlewareOptions } from '../src/index.js';
import * as onExpress from '../src/express.js';
import * as onFastify from '../src/fastify.js';
import * as onKoa from '../src/koa.js';

const flags = featureFlags({
  env: false,
  flags: {
    flags: {
      beta: { rules: [{ targetingKeys: ['alice'] }] },
      office: {
        rules: [{ constraints: [{ attribute: 'remoteAddress', operator: 'in_cidr', values: ['127.0.0.0/8'] }] }],
      },
      mobile: { rules: [{ constraints: [{ attribute: 'x-client', operator: 'in', values: ['ios', 'android'] }] }] },
      pro: { rules: [{ constraints: [{ attribute: 'plan', operator: 'in', values: ['pro'] }] }] },
    },
  },
});

const options: FlagsMiddlewareOptions = {
  targetingKey: (req) => req.header('x-user-id'),
  headers: ['X-Client'],
  context: (req) => ({ plan: req.query.plan }),
};
const report = (f: { isEnabled(k: string): boolean; context: object }) => ({
  beta: f.isEnabled('beta'),
  office: f.isEnabled('office'),
  mobile: f.isEnabled('mobile'),
  pro: f.isEnabled('pro'),
  context: f.context,
});

const apps: Record<string, { url: string; close(): Promise<void> }> = {};

beforeAll(async () => {
  const e = express();
  e.use(onExpress.flagsMiddleware(flags, options));
  e.get('/check', (req, res) => void res.json(report(req.flags!)));
  e.get('/beta', onExpress.requireFlag(flags, 'beta', options), (_req, res) => void res.send('beta'));
  apps.express = await listen(e);

  const f = Fastify();
  await f.register(onFastify.flagsMiddleware(flags, options));
  await f.register(onFastify.flagRoutes(flags, options));
  f.get('/check', async (request) => report(request.flags));
  f.get('/beta', { config: { featureFlag: 'beta' } }, async () => 'beta');
  await f.register(async (scope) => {
    await scope.register(onFastify.requireFlag(flags, 'beta', { ...options, status: 403 }));
    scope.get('/scoped', async () => 'scoped');
  });
  apps.fastify = { url: await f.listen({ port: 0, host: '127.0.0.1' }), close: () => f.close() };

  const k = new Koa();
  const router = new Router();
  k.use(onKoa.flagsMiddleware(flags, options));
  router.get('/check', (ctx) => {
    ctx.body = report(ctx.state.flags);
  });
  router.get('/beta', onKoa.requireFlag(flags, 'beta', options), (ctx) => {
    ctx.body = 'beta';
  });
  k.use(router.routes());
  apps.koa = await listen(k.callback());
});

afterAll(async () => {
  await Promise.all(Object.values(apps).map((a) => a.close()));
});

describe.each(['express', 'fastify', 'koa'])('on %s', (name) => {
  it('builds the context from the targeting key, headers, IP and query, and evaluates with it', async () => {
    const res = await fetch(`${apps[name]!.url}/check?plan=pro`, {
      headers: { 'x-user-id': 'alice', 'x-client': 'ios' },
    });
    expect(await res.json()).toEqual({
      beta: true,
      office: true,
      mobile: true,
      pro: true,
      context: { targetingKey: 'alice', remoteAddress: '127.0.0.1', 'x-client': 'ios', plan: 'pro' },
    });
    const other = await (await fetch(`${apps[name]!.url}/check`, { headers: { 'x-user-id': 'bob' } })).json();
    expect(other).toMatchObject({ beta: false, mobile: false, pro: false, office: true });
  });

  it('hides a route whose flag is off behind a 404 problem, and serves it when on', async () => {
    const off = await fetch(`${apps[name]!.url}/beta`, { headers: { 'x-user-id': 'bob' } });
    expect(off.status).toBe(404);
    expect(off.headers.get('content-type')).toContain('application/problem+json');
    expect(await off.json()).toMatchObject({ status: 404, title: 'Not Found' });
    const on = await fetch(`${apps[name]!.url}/beta`, { headers: { 'x-user-id': 'alice' } });
    expect(on.status).toBe(200);
    expect(await on.text()).toBe('beta');
  });
});

describe('fastify scoped requireFlag', () => {
  it('guards only its scope, with the status asked for', async () => {
    expect((await fetch(`${apps.fastify!.url}/scoped`, { headers: { 'x-user-id': 'bob' } })).status).toBe(403);
    expect((await fetch(`${apps.fastify!.url}/scoped`, { headers: { 'x-user-id': 'alice' } })).status).toBe(200);
    expect((await fetch(`${apps.fastify!.url}/check`, { headers: { 'x-user-id': 'bob' } })).status).toBe(200);
  });
});

describe('bad configuration', () => {
  it('refuses a non-flags object and bad options at construction', () => {
    expect(() => onExpress.flagsMiddleware({} as never)).toThrow(/expected FeatureFlags/);
    expect(() => onExpress.requireFlag(flags, '')).toThrow(/flag/);
    expect(() => onKoa.requireFlag(flags, 'beta', { status: 500 as never })).toThrow(/status/);
    expect(() => onFastify.flagsMiddleware(flags, { headers: [''] })).toThrow(/headers\.0/);
  });
});
