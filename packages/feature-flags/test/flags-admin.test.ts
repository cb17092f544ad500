import { bodyParser } from '@koa/bodyparser';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type Listening } from '@bulwark/test-servers';
import { featureFlags, type FeatureFlags, type FlagSource } from '../src/index.js';
import * as onExpress from '../src/express.js';
import * as onFastify from '../src/fastify.js';
import * as onKoa from '../src/koa.js';

const token = 'Bearer s3cret';
const authorize = (req: { header(name: string): string | undefined }) => req.header('authorization') === token;
const doc = {
  flags: { beta: { rules: [{ rollout: { percentage: 10 } }] }, base: {}, child: { prerequisites: [{ flag: 'base' }] } },
};

async function start(name: string, flags: FeatureFlags): Promise<Listening> {
  if (name === 'express') {
    const app = express();
    app.use(express.json(), onExpress.flagsAdmin(flags, { authorize }));
    app.get('/other', (_req, res) => void res.send('other'));
    return listen(app);
  }
  if (name === 'fastify') {
    const app = Fastify();
    await app.register(onFastify.flagsAdmin(flags, { authorize }));
    app.get('/other', async () => 'other');
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  }
  const app = new Koa();
  app.use(bodyParser());
  app.use(onKoa.flagsAdmin(flags, { authorize }));
  app.use((ctx) => {
    if (ctx.path === '/other') ctx.body = 'other';
  });
  return listen(app.callback());
}

describe.each(['express', 'fastify', 'koa'])('flags admin on %s', (name) => {
  let flags: FeatureFlags;
  let saved: unknown[];
  let server: Listening;
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}/flags-admin${path}`, { ...init, headers: { authorization: token, ...init.headers } });

  beforeAll(async () => {
    saved = [];
    const source: FlagSource = { load: async () => doc, save: async (d) => void saved.push(d) };
    flags = featureFlags({ source, env: false });
    await flags.ready();
    server = await start(name, flags);
  });
  afterAll(() => server.close());

  it('refuses without authorization, and lets other paths through', async () => {
    const res = await fetch(`${server.url}/flags-admin/api/flags`);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await (await fetch(`${server.url}/other`)).text()).toBe('other');
  });

  it('serves the page under a strict CSP, with its script and style', async () => {
    const redirect = await call('', { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/flags-admin/');
    const page = await call('/');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script src="admin.js" defer></script>');
    expect(html).not.toMatch(/<script>|\sstyle=|\son[a-z]+=/);
    expect((await call('/admin.js')).headers.get('content-type')).toContain('text/javascript');
    expect((await call('/admin.css')).headers.get('content-type')).toContain('text/css');
  });

  it('lists, reads, writes through and deletes flags', async () => {
    const list = (await (await call('/api/flags')).json()) as { flags: Record<string, { definition: unknown }> };
    expect(Object.keys(list.flags)).toEqual(['base', 'beta', 'child']);
    expect(list.flags.beta!.definition).toEqual({ rules: [{ rollout: { percentage: 10 } }] });

    const put = await call('/api/flags/beta', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ rollout: { percentage: 30 } }] }),
    });
    expect(put.status).toBe(200);
    expect(flags.get('beta')?.rules[0]?.rollout?.percentage).toBe(30);
    expect(saved.at(-1)).toMatchObject({ flags: { beta: { rules: [{ rollout: { percentage: 30 } }] } } });

    const bad = await call('/api/flags/beta', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ rollout: { percentage: 300 } }] }),
    });
    expect(bad.status).toBe(400);
    const refused = (await bad.json()) as { issues: { field: string }[] };
    expect(refused.issues[0]!.field).toBe('flags.beta.rules.0.rollout.percentage');
    expect(flags.get('beta')?.rules[0]?.rollout?.percentage).toBe(30);

    expect((await call('/api/flags/beta', { method: 'PUT', body: 'x' })).status).toBe(415);
    expect((await call('/api/flags/base', { method: 'DELETE' })).status).toBe(400); // child requires it
    expect((await call('/api/flags/child', { method: 'DELETE' })).status).toBe(204);
    expect(flags.get('child')).toBeUndefined();
    expect((await call('/api/flags/child')).status).toBe(404);
    expect((await call('/api/flags/nope', { method: 'DELETE' })).status).toBe(404);
    expect((await call('/api/other')).status).toBe(404);
  });
});

describe('flags admin configuration', () => {
  const flags = featureFlags({ flags: doc, env: false });
  it('refuses to mount without authorize', () => {
    expect(() => onExpress.flagsAdmin(flags, {} as never)).toThrow(/authorize/);
    expect(() => onFastify.flagsAdmin(flags, { authorize, prefix: 'admin/' })).toThrow(/prefix/);
  });

  it('answers 409 when the source is read-only', async () => {
    const readOnly = featureFlags({ source: { load: async () => doc }, env: false });
    await readOnly.ready();
    const server = await start('express', readOnly);
    try {
      const res = await fetch(`${server.url}/flags-admin/api/flags/beta`, {
        method: 'PUT',
        headers: { authorization: token, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(409);
    } finally {
      await server.close();
    }
  });
});
