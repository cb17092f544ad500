import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { NEXT, problemReply, problemTypes, type Guard } from '@bulwark/http';
import { requestId as expressRequestId, toExpress } from '@bulwark/http/express';
import { requestId as fastifyRequestId, toFastify } from '@bulwark/http/fastify';
import { requestId as koaRequestId, toKoa } from '@bulwark/http/koa';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type Listening } from '@bulwark/test-servers';
import { isBulwarkConfigError } from '@bulwark/core';
import { createAuditLog } from '../src/audit-log.js';
import type { AuditRequestsOptions } from '../src/audit-guard.js';
import { memorySink } from '../src/memory-sink.js';
import * as onExpress from '../src/express.js';
import * as onFastify from '../src/fastify.js';
import * as onKoa from '../src/koa.js';

// A stand-in for the Bulwark guards: refuses by path, with the problem replies they send.
const refusing: Guard = (req) => {
  switch (req.path) {
    case '/limited':
      return {
        kind: 'respond',
        ...problemReply(
          { type: problemTypes.quotaExceeded, title: 'Too Many Requests', status: 429 },
          { retryAfterMs: 1000 },
        ),
      };
    case '/shed':
      return {
        kind: 'respond',
        ...problemReply({ type: problemTypes.temporaryReducedCapacity, title: 'Service Unavailable', status: 503 }),
      };
    case '/v1/gone':
      return { kind: 'respond', ...problemReply({ title: 'Gone', status: 410 }) };
    case '/invalid':
      return { kind: 'respond', ...problemReply({ title: 'Bad Request', status: 400 }) };
    case '/flag-off':
      return { kind: 'respond', status: 404, body: 'Not Found' }; // as requireFlag answers: no security outcome
    default:
      return NEXT;
  }
};

const frameworks = ['express', 'fastify', 'koa'] as const;
type Framework = (typeof frameworks)[number];

async function start(framework: Framework, options: AuditRequestsOptions & { hook?: 'onRequest' | 'preHandler' } = {}) {
  const sink = memorySink();
  const audit = createAuditLog({ app: 'shop', sink });
  let server: Listening;
  if (framework === 'express') {
    const app = express();
    app.use(expressRequestId());
    app.use(onExpress.auditRequests(audit, options));
    app.use(toExpress(refusing));
    app.get('/ok', (_req, res) => void res.send('ok'));
    app.get('/forbidden', (_req, res) => void res.status(403).send('no'));
    app.get('/missing', (_req, res) => void res.status(404).send('none'));
    server = await listen(app);
  } else if (framework === 'fastify') {
    const app = Fastify();
    await app.register(fastifyRequestId());
    await app.register(onFastify.auditRequests(audit, options));
    await app.register(toFastify(refusing, { name: 'refusing' }));
    app.get('/ok', async () => 'ok');
    app.get('/forbidden', async (_req, reply) => reply.code(403).send('no'));
    app.get('/missing', async (_req, reply) => reply.code(404).send('none'));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    server = { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  } else {
    const app = new Koa();
    app.use(koaRequestId());
    app.use(onKoa.auditRequests(audit, options));
    app.use(toKoa(refusing));
    app.use((ctx) => {
      if (ctx.path === '/ok') ctx.body = 'ok';
      else if (ctx.path === '/forbidden') [ctx.status, ctx.body] = [403, 'no'];
      else [ctx.status, ctx.body] = [404, 'none'];
    });
    server = await listen(app.callback());
  }
  servers.push(server);
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(server.url + path, { headers });
    await res.text();
    return res;
  };
  // `after` runs when the response closes, a moment after the client has it.
  const records = async (count: number) => {
    for (let i = 0; i < 100 && sink.stored.length < count; i++) await new Promise((r) => setTimeout(r, 5));
    return sink.records();
  };
  return { audit, sink, get, records };
}

const servers: Listening[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe.each(frameworks)('auditRequests on %s (real server)', (framework) => {
  it('records each Bulwark refusal after it with the request id, address, method, path and problem', async () => {
    const app = await start(framework);
    const res = await app.get('/limited?page=2', { 'x-request-id': 'req-42', 'user-agent': 'probe/1' });
    expect(res.status).toBe(429);
    await app.get('/flag-off');
    await app.get('/shed');
    await app.get('/v1/gone');
    await app.get('/invalid');
    const records = await app.records(4);
    expect(records.map((r) => [r.event, r.level, r.status])).toEqual([
      ['excess_rate_limit_exceeded:127.0.0.1', 'WARN', 429],
      ['bulwark_shed', 'WARN', 503],
      ['bulwark_gone', 'INFO', 410],
      ['input_validation_fail', 'WARN', 400],
    ]);
    expect(records[0]).toMatchObject({
      request_id: 'req-42',
      source_ip: '127.0.0.1',
      request_method: 'GET',
      request_uri: '/limited?page=2',
      useragent: 'probe/1',
      result: 'failure',
      reason: 'Too Many Requests',
      data: { problemType: problemTypes.quotaExceeded },
    });
    expect(records[1]!.request_id).toMatch(/^[0-9a-f-]{36}$/); // the id the requestId middleware made
  });

  it('records the app’s own 401/403 once the response is sent, and nothing for a passing request', async () => {
    const app = await start(framework, { user: (req) => req.header('x-user') });
    await app.get('/ok');
    await app.get('/missing');
    await app.get('/forbidden', { 'x-user': 'bob' });
    const records = await app.records(1);
    await new Promise((r) => setTimeout(r, 30));
    expect(app.sink.records().map((r) => [r.event, r.userid, r.status, r.level])).toEqual([
      ['authz_fail', 'bob', 403, 'CRITICAL'],
    ]);
    expect(records).toHaveLength(1);
  });

  it('takes its own status map, classifier, and can leave refusals out', async () => {
    const app = await start(framework, {
      refusals: true,
      statuses: { 404: 'malicious_excess_404' },
      classify: (reply) => (reply.status === 503 ? undefined : 'custom_refusal'),
    });
    await app.get('/missing');
    await app.get('/shed');
    await app.get('/limited');
    await app.get('/forbidden');
    const records = await app.records(2);
    await new Promise((r) => setTimeout(r, 30));
    expect(
      app.sink
        .records()
        .map((r) => r.event)
        .sort(),
    ).toEqual(['custom_refusal', 'malicious_excess_404']);
    expect(records.length).toBeGreaterThan(0);

    const quiet = await start(framework, { refusals: false, statuses: {} });
    await quiet.get('/limited');
    await quiet.get('/forbidden');
    await new Promise((r) => setTimeout(r, 30));
    expect(quiet.sink.stored).toEqual([]);
  });
});

describe('auditRequests options', () => {
  it('refuses bad options with a config error naming the field', () => {
    const audit = createAuditLog({ app: 'x', sink: memorySink() });
    for (const [options, field] of [
      [{ statuses: { 999: 'x', abc: 'y' } }, 'statuses.abc'],
      [{ user: 'bob' }, 'user'],
      [{ refusal: true }, 'refusal'],
    ] as const) {
      let error: unknown;
      try {
        onExpress.auditRequests(audit, options as never);
      } catch (e) {
        error = e;
      }
      expect(isBulwarkConfigError(error)).toBe(true);
      expect((error as { issues: { field: string }[] }).issues.map((i) => i.field)).toContain(field);
    }
  });

  it('on Fastify, a guard registered before it is not attributed to it (mount it first)', async () => {
    const sink = memorySink();
    const audit = createAuditLog({ app: 'shop', sink });
    const app = Fastify();
    await app.register(toFastify(refusing, { name: 'early' }));
    await app.register(onFastify.auditRequests(audit));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/limited`);
    expect(res.status).toBe(429);
    await new Promise((r) => setTimeout(r, 30));
    expect(sink.stored).toEqual([]);
    await app.close();
  });
});
