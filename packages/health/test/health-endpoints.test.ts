import { afterEach, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHealth, healthEndpoints, type HealthCheck, type HealthEndpointsOptions } from '@bulwark/health';
import { healthRoutes as expressHealth } from '@bulwark/health/express';
import { healthRoutes as fastifyHealth } from '@bulwark/health/fastify';
import { healthRoutes as koaHealth } from '@bulwark/health/koa';
import { BulwarkConfigError } from '@bulwark/core';
import { frameworks, serve, type TestServer } from '@bulwark/test-servers';

// ajv-formats is CommonJS with a default export; under ESM interop it may arrive wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

/** draft-inadarei-api-health-check-06 as a JSON Schema: what a consumer of the document may rely on. */
const status = { enum: ['pass', 'warn', 'fail'] };
const noOutputOnPass = { if: { properties: { status: { const: 'pass' } } }, then: { not: { required: ['output'] } } };
const healthSchema = {
  type: 'object',
  required: ['status'],
  properties: {
    status,
    version: { type: 'string' },
    releaseId: { type: 'string' },
    notes: { type: 'array', items: { type: 'string' } },
    output: { type: 'string' },
    serviceId: { type: 'string' },
    description: { type: 'string' },
    links: { type: 'object', additionalProperties: { type: 'string' } },
    checks: {
      type: 'object',
      // "componentName:measurementName", neither part containing a colon
      propertyNames: { pattern: '^[^:]+(:[^:]+)?$' },
      additionalProperties: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['status', 'time'],
          properties: {
            componentId: { type: 'string' },
            componentType: { type: 'string' },
            observedUnit: { type: 'string' },
            status,
            affectedEndpoints: { type: 'array', items: { type: 'string' } },
            time: { type: 'string', format: 'date-time' },
            output: { type: 'string' },
            links: { type: 'object', additionalProperties: { type: 'string' } },
          },
          ...noOutputOnPass,
        },
      },
    },
  },
  additionalProperties: false,
  ...noOutputOnPass,
};
const validate = addFormats(new Ajv({ allErrors: true, strict: false })).compile(healthSchema);

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const secret = 'connect ECONNREFUSED 10.0.0.7:5432 user=admin';
const checks = (): HealthCheck[] => [
  {
    name: 'db',
    measurement: 'responseTime',
    componentType: 'datastore',
    componentId: 'pg-1',
    run: () => ({ status: 'pass', observedValue: 4.2, observedUnit: 'ms' }),
  },
  {
    name: 'cache',
    critical: false,
    tags: ['ready', 'live'],
    run: () => {
      throw new Error(secret);
    },
  },
  { name: 'loop', measurement: 'delay', tags: ['live', 'startup'], run: () => true },
];

async function get(path: string, init?: RequestInit) {
  const res = await fetch(`${server!.url}${path}`, init);
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    cache: res.headers.get('cache-control'),
    text: await res.text(),
  };
}

describe.each(frameworks)('health endpoints on %s', (framework) => {
  const start = async (list: HealthCheck[], options?: HealthEndpointsOptions) => {
    const health = createHealth({
      checks: list,
      version: '1',
      releaseId: '1.4.2',
      serviceId: 'svc-9',
      description: 'orders',
    });
    server = await serve(framework, { endpoints: healthEndpoints(health, options) });
    return health;
  };

  it('/health: the health+json document, valid against the draft schema, warn → 200, reasons withheld', async () => {
    await start(checks());
    const res = await get('/health');
    // Fastify adds "; charset=utf-8" to string payloads; the media type is what matters.
    // One content type everywhere (Fastify appended "; charset=utf-8").
    expect([res.status, res.type, res.cache]).toEqual([200, 'application/health+json', 'no-store']);
    const doc = JSON.parse(res.text) as Record<string, unknown>;
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc).toMatchObject({
      status: 'warn',
      version: '1',
      releaseId: '1.4.2',
      serviceId: 'svc-9',
      description: 'orders',
      checks: {
        'db:responseTime': [
          { componentId: 'pg-1', componentType: 'datastore', observedValue: 4.2, observedUnit: 'ms', status: 'pass' },
        ],
        cache: [{ componentType: 'component', status: 'fail', output: 'reason withheld' }],
        'loop:delay': [{ status: 'pass' }],
      },
    });
    expect(res.text).not.toContain('10.0.0.7');
  });

  it('/health: a failing critical check → 503; exposeDetails shows the reason', async () => {
    await start([...checks(), { name: 'queue', run: () => ({ status: 'down', output: 'broker unreachable' }) }], {
      exposeDetails: true,
    });
    const res = await get('/health');
    expect(res.status).toBe(503);
    const doc = JSON.parse(res.text) as { status: string; checks: Record<string, { output?: string }[]> };
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.status).toBe('fail');
    expect(doc.checks.queue![0]!.output).toBe('broker unreachable');
    expect(doc.checks.cache![0]!.output).toBe(secret);
  });

  it('/livez: ok; ?verbose lists every check; a non-critical failure does not fail it', async () => {
    await start(checks());
    expect(await get('/livez')).toEqual({
      status: 200,
      type: 'text/plain; charset=utf-8',
      cache: 'no-store',
      text: 'ok',
    });
    expect((await get('/livez?verbose')).text).toBe(
      '[+]cache failed (non-critical): reason withheld\n[+]loop ok\nlivez check passed\n',
    );
    expect((await get('/livez', { method: 'HEAD' })).status).toBe(200);
  });

  it('/readyz: failure is always verbose with the reason withheld; ?exclude skips a check; unknown excludes warned', async () => {
    await start([...checks(), { name: 'queue', run: () => false }]);
    const failing = await get('/readyz');
    expect([failing.status, failing.cache]).toEqual([503, 'no-store']);
    expect(failing.text).toBe(
      '[+]db ok\n[+]cache failed (non-critical): reason withheld\n[-]queue failed: reason withheld\nreadyz check failed\n',
    );
    expect(await get('/readyz?exclude=queue')).toMatchObject({ status: 200, text: 'ok' });
    expect((await get('/readyz?exclude=queue&exclude=nope&exclude=db&verbose=1')).text).toBe(
      '[+]db excluded: ok\n[+]cache failed (non-critical): reason withheld\n[+]queue excluded: ok\n' +
        'warn: some health checks cannot be excluded: no matches for "nope"\nreadyz check passed\n',
    );
  });

  it('/<probe>/<check>: one check; unknown or untagged names → 404', async () => {
    await start([...checks(), { name: 'queue', run: () => false }]);
    expect(await get('/readyz/db')).toMatchObject({ status: 200, text: 'ok' });
    expect(await get('/readyz/queue')).toMatchObject({ status: 503, text: 'internal server error: reason withheld' });
    expect(await get('/startupz/loop')).toMatchObject({ status: 200, text: 'ok' });
    expect(await get('/livez/db')).toMatchObject({ status: 404, text: 'no live check named "db"' });
    expect((await get('/readyz/nope')).status).toBe(404);
  });

  it('a hung check answers fail/timeout within its timeout; the probe still answers', async () => {
    await start([{ name: 'slow', timeoutMs: 50, run: () => new Promise(() => {}) }]);
    expect(await get('/readyz')).toMatchObject({ status: 503, text: '[-]slow failed: timeout\nreadyz check failed\n' });
    const doc = JSON.parse((await get('/health')).text) as { checks: Record<string, { output?: string }[]> };
    expect(doc.checks.slow![0]!.output).toBe('timeout');
  });

  it('during shutdown readiness and the document fail, liveness passes', async () => {
    const health = await start([{ name: 'db', tags: ['live', 'ready'], run: () => true }]);
    health.beginShutdown();
    expect(await get('/readyz')).toMatchObject({
      status: 503,
      text: '[+]db ok\n[-]shutdown failed: shutting down\nreadyz check failed\n',
    });
    expect(await get('/livez')).toMatchObject({ status: 200, text: 'ok' });
    const doc = await get('/health');
    expect(doc.status).toBe(503);
    expect(JSON.parse(doc.text)).toMatchObject({ status: 'fail', output: 'shutting down' });
  });

  it('signalNotReady fails readiness and the document with its reason until signalReady; liveness passes', async () => {
    const health = await start([{ name: 'db', tags: ['live', 'ready'], run: () => true }]);
    health.signalNotReady('warming the cache');
    expect(await get('/readyz')).toMatchObject({
      status: 503,
      text: '[+]db ok\n[-]signal failed: warming the cache\nreadyz check failed\n',
    });
    expect(await get('/livez')).toMatchObject({ status: 200, text: 'ok' });
    expect(JSON.parse((await get('/health')).text)).toMatchObject({ status: 'fail', output: 'warming the cache' });
    health.signalReady();
    expect(await get('/readyz')).toMatchObject({ status: 200, text: 'ok' });
    expect(JSON.parse((await get('/health')).text)).toEqual(expect.not.objectContaining({ output: expect.anything() }));
  });

  it('checks added and removed after creation show in every probe at once', async () => {
    const health = await start([{ name: 'db', tags: ['ready'], run: () => true }]);
    expect(await get('/readyz?verbose')).toMatchObject({ text: '[+]db ok\nreadyz check passed\n' });
    health.addCheck({ name: 'redis', tags: ['ready'], run: () => false });
    expect(await get('/readyz')).toMatchObject({ status: 503, text: expect.stringContaining('[-]redis failed') });
    expect(await get('/readyz/redis')).toMatchObject({ status: 503 });
    expect(health.removeCheck('redis')).toBe(true);
    expect(health.removeCheck('redis')).toBe(false);
    expect(await get('/readyz?verbose')).toMatchObject({ status: 200, text: '[+]db ok\nreadyz check passed\n' });
    expect(await get('/readyz/redis')).toMatchObject({ status: 404 });
  });

  it('authorize guards endpoints (sync or async); paths can move or be left out', async () => {
    await start(checks(), {
      paths: { health: '/internal/health', startup: false },
      authorize: async (req, endpoint) => endpoint !== 'health' || req.header('authorization') === 'Bearer ops',
    });
    expect(await get('/internal/health')).toMatchObject({ status: 403, text: 'forbidden' });
    expect((await get('/internal/health', { headers: { authorization: 'Bearer ops' } })).status).toBe(200);
    expect((await get('/health')).status).toBe(404);
    expect((await get('/startupz')).status).toBe(404);
    expect((await get('/livez')).status).toBe(200);
  });
});

describe('healthRoutes() entry points on real servers', () => {
  const health = createHealth({ checks: [{ name: 'db', tags: ['live', 'ready'], run: () => true }] });
  const listen = async (server: Server) => {
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const probe = async (base: string) => [
    (await fetch(`${base}/livez`)).status,
    await (await fetch(`${base}/readyz?verbose`)).text(),
    (await fetch(`${base}/other`)).status,
  ];
  const expected = [200, '[+]db ok\nreadyz check passed\n', 404];

  it('express', async () => {
    const app = express();
    app.use(expressHealth(health));
    const server = app.listen(0, '127.0.0.1');
    try {
      expect(await probe(await listen(server))).toEqual(expected);
    } finally {
      server.close();
    }
  });
  it('fastify (with a prefix)', async () => {
    const app = Fastify();
    await app.register(fastifyHealth(health), { prefix: '/ops' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect(await probe(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/ops`)).toEqual(expected);
    } finally {
      await app.close();
    }
  });
  it('koa', async () => {
    const app = new Koa();
    app.use(koaHealth(health));
    const server = app.listen(0, '127.0.0.1');
    try {
      expect(await probe(await listen(server))).toEqual(expected);
    } finally {
      server.close();
    }
  });
});

describe('bad endpoint options', () => {
  const health = createHealth();
  it.each([
    [{ paths: { health: 'health' } }, /paths\.health/],
    [{ paths: { metrics: '/m' } }, /paths\.metrics.*unknown option/s],
    [{ exposeDetails: 'yes' }, /exposeDetails/],
  ])('%j is refused naming the field', (options, field) => {
    const make = () => healthEndpoints(health, options as never);
    expect(make).toThrow(BulwarkConfigError);
    expect(make).toThrow(field);
  });
});

describe('health.listen: probes on a port of their own', () => {
  it('serves the endpoints with plain node:http; 404 elsewhere; close() stops it', async () => {
    const health = createHealth({ checks: [{ name: 'db', tags: ['ready'], run: () => true }] });
    const probes = await health.listen(0, { host: '127.0.0.1', paths: { health: '/status' } });
    const url = `http://127.0.0.1:${probes.port}`;
    const live = await fetch(`${url}/livez`);
    expect([live.status, await live.text(), live.headers.get('cache-control')]).toEqual([200, 'ok', 'no-store']);
    expect((await fetch(`${url}/readyz?verbose`)).status).toBe(200);
    const doc = await fetch(`${url}/status`);
    expect(doc.headers.get('content-type')).toBe('application/health+json');
    expect(await doc.json()).toMatchObject({ status: 'pass' });
    const head = await fetch(`${url}/livez`, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    expect((await fetch(`${url}/health`)).status).toBe(404); // moved to /status
    expect((await fetch(`${url}/livez`, { method: 'POST' })).status).toBe(404);
    health.beginShutdown();
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    await health.close();
    await expect(fetch(`${url}/livez`)).rejects.toThrow();
  });

  it('a port in use is an error from listen, not a crash', async () => {
    const health = createHealth();
    const first = await health.listen(0, { host: '127.0.0.1' });
    await expect(createHealth().listen(first.port, { host: '127.0.0.1' })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    await first.close();
  });
});
