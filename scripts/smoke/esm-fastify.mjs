// Smoke test from the packed tarballs, ESM, Fastify: the packages combined as the READMEs show them.
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { compose, handleType, timeout } from '@bulwark/core';
import { retry } from '@bulwark/retry';
import { circuitBreaker, consecutive } from '@bulwark/circuit-breaker';
import { bulkhead } from '@bulwark/bulkhead';
import { loadShedding } from '@bulwark/bulkhead/fastify';
import { rateLimiter } from '@bulwark/rate-limiter';
import { rateLimit } from '@bulwark/rate-limiter/fastify';
import { createHealth } from '@bulwark/health';
import { healthRoutes } from '@bulwark/health/fastify';
import { instrument } from '@bulwark/telemetry';
import { metricsRoute } from '@bulwark/telemetry/fastify';
import { toFastify, toFastifyRewriteUrl } from '@bulwark/http/fastify';
import { Registry } from 'prom-client';

const registry = new Registry();
const telemetry = instrument({ registry, defaultMetrics: true });

class UpstreamError extends Error {}
const breaker = circuitBreaker({ window: consecutive(2), stats: true, isFailure: handleType(UpstreamError) });
const outbound = compose(retry({ maxAttempts: 2, backoff: () => 0 }), breaker, timeout(1_000));

const app = Fastify({
  rewriteUrl: toFastifyRewriteUrl((req) => (req.path.startsWith('/v2/') ? req.url.slice(3) : undefined)),
});
const health = createHealth({ checks: [{ name: 'db', tags: ['ready'], run: () => true }] });
await app.register(healthRoutes(health));
await app.register(metricsRoute({ registry }));
await app.register(loadShedding({ limiter: bulkhead({ maxConcurrent: 100 }) }));
await app.register(
  rateLimit({
    limiter: rateLimiter({ limit: 2, windowMs: '1 minute' }),
    headers: 'draft-7',
    message: { error: 'slow down' },
  }),
);
const stamp = Object.assign(
  (req) => ({ kind: 'next', body: { ...req.body, stamped: true }, transformResponse: (b) => ({ ...b, v: 2 }) }),
  {
    needs: ['body', 'response'],
  },
);
await app.register(toFastify(stamp, { name: 'stamp' }));
app.post('/echo', async (request) => ({ got: request.body, limit: request.rateLimit?.remaining }));
app.get('/quote', () => outbound.execute(() => Promise.reject(new UpstreamError('down'))));
await app.listen({ port: 0, host: '127.0.0.1' });
const url = `http://127.0.0.1:${app.server.address().port}`;

const echo = await fetch(`${url}/v2/echo`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: '{"a":1}',
});
assert.equal(echo.status, 200);
assert.deepEqual(await echo.json(), { got: { a: 1, stamped: true }, limit: 1, v: 2 });
assert.equal(echo.headers.get('ratelimit'), 'limit=2, remaining=1, reset=30');
assert.equal((await fetch(`${url}/quote`)).status, 500); // two attempts: the breaker opens
assert.equal(breaker.state, 'open');
const refused = await fetch(`${url}/echo`, { method: 'POST' });
assert.equal(refused.status, 429);
assert.deepEqual(await refused.json(), { error: 'slow down' });
assert.equal((await fetch(`${url}/readyz`)).status, 200); // probes are never limited
health.signalNotReady('smoke');
assert.equal((await fetch(`${url}/readyz`)).status, 503);
const metrics = await (await fetch(`${url}/metrics`)).text();
assert.match(metrics, /bulwark_circuit_state\{name="",state="open"\} 1/);
assert.match(metrics, /process_cpu_user_seconds_total/);
assert.deepEqual(
  { failures: breaker.stats().failures, rejections: breaker.stats().rejections },
  { failures: 2, rejections: 0 },
);
telemetry.dispose();
await app.close();
await health.close();
console.log('esm-fastify: ok');
