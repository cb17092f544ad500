// Smoke test from the packed tarballs, CommonJS, Koa: limiter + probes + the exchange capabilities.
const assert = require('node:assert/strict');
const Koa = require('koa');
const Router = require('@koa/router');
const { bodyParser } = require('@koa/bodyparser');
const { rateLimiter } = require('@bulwark/rate-limiter');
const { rateLimit } = require('@bulwark/rate-limiter/koa');
const { createHealth } = require('@bulwark/health');
const { healthRoutes } = require('@bulwark/health/koa');
const { toKoa, toKoaRewrite, requestId } = require('@bulwark/http/koa');
const { isBulwarkConfigError } = require('@bulwark/core');
const { featureFlags } = require('@bulwark/feature-flags');
const { fromUnleash, unleashContext } = require('@bulwark/feature-flags/unleash');
const { flagsMiddleware, requireFlag } = require('@bulwark/feature-flags/koa');
const { createVersioning, headerVersion, uriVersion, versionChange } = require('@bulwark/api-versioning');
const { apiVersioning } = require('@bulwark/api-versioning/koa');
const { createAuditLog, memorySink } = require('@bulwark/audit-log');
const { auditRequests } = require('@bulwark/audit-log/koa');
const { validateRequest } = require('@bulwark/sanitize/koa');
const { z } = require('zod');

(async () => {
  const app = new Koa();
  const health = createHealth({ checks: [{ name: 'db', tags: ['ready'], run: () => true }] });
  app.use(healthRoutes(health));
  app.use(requestId());
  const auditSink = memorySink();
  const audit = createAuditLog({ app: 'smoke', sink: auditSink });
  app.use(auditRequests(audit));
  app.use(toKoaRewrite((req) => (req.path.startsWith('/v2/') ? req.url.slice(3) : undefined)));
  app.use(bodyParser());
  app.use(rateLimit({ limiter: rateLimiter({ limit: 5, windowMs: 60000 }), allowList: ['10.0.0.0/8'] }));
  // Flags imported from an Unleash document, on Koa.
  const unleash = {
    features: [{ name: 'beta', enabled: true, strategies: [{ name: 'userWithId', parameters: { userIds: 'alice' } }] }],
  };
  const flags = featureFlags({ flags: fromUnleash(unleash).document, env: false });
  assert.equal(flags.isEnabled('beta', unleashContext({ userId: 'alice' })), true);
  const who = { targetingKey: (req) => req.header('x-user') };
  app.use(flagsMiddleware(flags, who));
  const router = new Router();
  router.post(
    '/notes/:id',
    validateRequest({
      params: z.object({ id: z.string().regex(/^\d+$/) }),
      body: z.strictObject({ title: z.string().min(1) }),
    }),
    (ctx) => {
      ctx.status = 201;
      ctx.body = { id: ctx.params.id, title: ctx.request.body.title };
    },
  );
  router.get('/beta', requireFlag(flags, 'beta', who), (ctx) => {
    ctx.body = { on: ctx.state.flags.isEnabled('beta') };
  });
  const upper = Object.assign(
    (req) => ({ kind: 'next', query: { ...req.query, seen: true }, transformResponse: (b) => ({ ...b, id: 'x' }) }),
    { needs: ['response'] },
  );
  router.get('/items/:id', toKoa(upper), (ctx) => {
    ctx.body = { id: ctx.params.id, query: ctx.query, original: ctx.originalUrl };
  });
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const res = await fetch(`${url}/v2/items/7?q=1`);
  assert.equal(res.status, 200);
  assert.ok(res.headers.get('x-request-id'));
  assert.deepEqual(await res.json(), { id: 'x', query: { q: '1', seen: true }, original: '/v2/items/7?q=1' });
  assert.equal((await fetch(`${url}/livez`)).status, 200);
  const note = (id, body) =>
    fetch(`${url}/notes/${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.deepEqual(await (await note('7', '{"title":"ok"}')).json(), { id: '7', title: 'ok' });
  const badNote = await note('x', '{"title":"","secret":"s3cr3t"}');
  assert.equal(badNote.status, 400);
  assert.ok(!(await badNote.text()).includes('s3cr3t'));
  assert.equal((await fetch(`${url}/beta`, { headers: { 'x-user': 'bob' } })).status, 404);
  assert.deepEqual(await (await fetch(`${url}/beta`, { headers: { 'x-user': 'alice' } })).json(), { on: true });
  try {
    rateLimiter({ limit: 1, windowMs: 'a fortnight' });
    assert.fail('expected a config error');
  } catch (e) {
    assert.ok(isBulwarkConfigError(e));
    assert.match(e.message, /not a time/);
  }
  // API versioning on its own Koa app: /v1 stripped, deprecated headers, the v2 change translated back down.
  const versioning = createVersioning({
    versions: [{ version: '1', deprecatedAt: '2026-01-01', sunsetAt: '2099-01-01' }, { version: '2' }],
    extract: [uriVersion(), headerVersion()],
    defaultVersion: 'latest',
    changes: [versionChange({ version: '2', description: 'title → name', response: ({ name }) => ({ title: name }) })],
  });
  const api = new Koa();
  api.use(apiVersioning(versioning));
  api.use((ctx) => {
    ctx.body = { name: `${ctx.path}@${ctx.state.apiVersion}` };
  });
  const apiServer = api.listen(0, '127.0.0.1');
  await new Promise((r) => apiServer.once('listening', r));
  const v1 = await fetch(`http://127.0.0.1:${apiServer.address().port}/v1/things`);
  assert.deepEqual(await v1.json(), { title: '/things@1' });
  assert.match(v1.headers.get('deprecation'), /^@\d+$/);
  assert.equal((await fetch(`http://127.0.0.1:${apiServer.address().port}/v7/things`)).status, 404);
  apiServer.close();
  // Past the limit: the refusal is in the audit log with the request id the client got.
  let limited;
  for (let i = 0; i < 10 && limited === undefined; i++) {
    const r = await fetch(`${url}/livez-not-a-probe`);
    if (r.status === 429) limited = r;
  }
  assert.ok(limited, 'expected a 429');
  const refusal = auditSink.records().find((r) => r.event.startsWith('excess_rate_limit_exceeded'));
  assert.equal(refusal.request_id, limited.headers.get('x-request-id'));
  assert.equal(refusal.level, 'WARN');
  await audit.close();
  const probes = await health.listen(0, { host: '127.0.0.1' });
  assert.equal((await fetch(`http://127.0.0.1:${probes.port}/readyz`)).status, 200);
  await health.close();
  server.close();
  console.log('cjs-koa: ok');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
