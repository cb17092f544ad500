import express from 'express';
import { afterEach, expect, it } from 'vitest';
import { listen, type Listening } from '@bulwark/test-servers';
import { requestId } from '@bulwark/http/express';
import { rateLimiter } from '@bulwark/rate-limiter';
import { rateLimit } from '@bulwark/rate-limiter/express';
import { circuitBreaker } from '@bulwark/circuit-breaker';
import { shedWhenOpen } from '@bulwark/circuit-breaker/express';
import { createVersioning, uriVersion } from '@bulwark/api-versioning';
import { apiVersioning } from '@bulwark/api-versioning/express';
import { createAuditLog } from '../src/audit-log.js';
import { auditRequests } from '../src/express.js';
import { memorySink } from '../src/memory-sink.js';

// The middleware with the real primitives whose refusals it exists to record: nothing here is a stand-in.
let server: Listening | undefined;
afterEach(async () => server?.close());

it('records a rate limit, an open circuit and a sunset version, each with its request id', async () => {
  const sink = memorySink();
  const audit = createAuditLog({ app: 'shop', sink });
  const breaker = circuitBreaker();
  const versioning = createVersioning({
    versions: [{ version: '1', deprecatedAt: '2020-01-01', sunsetAt: '2021-06-01' }, { version: '2' }],
    minimumSupport: 0,
    extract: [uriVersion()],
    defaultVersion: 'latest',
  });
  const app = express();
  app.use(requestId());
  app.use(auditRequests(audit, { user: (req) => req.header('x-user') }));
  app.use(rateLimit({ limiter: rateLimiter({ limit: 2, windowMs: 60_000 }), skip: (req) => req.path !== '/limited' }));
  app.use('/shop', shedWhenOpen({ breaker }));
  app.use(apiVersioning(versioning));
  app.get('/limited', (_req, res) => void res.send('ok'));
  app.get('/shop/cart', (_req, res) => void res.send('cart'));
  app.get('/things', (_req, res) => void res.send('things'));
  server = await listen(app);

  const statuses: number[] = [];
  const ids: string[] = [];
  const get = async (path: string) => {
    const res = await fetch(server!.url + path, { headers: { 'x-user': 'joebob1' } });
    await res.text();
    statuses.push(res.status);
    ids.push(res.headers.get('x-request-id')!);
  };
  for (let i = 0; i < 3; i++) await get('/limited');
  const maintenance = breaker.isolate();
  await get('/shop/cart');
  maintenance.dispose();
  await get('/v1/things');
  await get('/v2/things');
  expect(statuses).toEqual([200, 200, 429, 503, 410, 200]);
  expect(sink.records().map((r) => [r.event, r.status, r.request_id, r.userid])).toEqual([
    ['excess_rate_limit_exceeded:joebob1', 429, ids[2], 'joebob1'],
    ['bulwark_shed', 503, ids[3], 'joebob1'],
    ['bulwark_gone', 410, ids[4], 'joebob1'],
  ]);
  await audit.close();
});
