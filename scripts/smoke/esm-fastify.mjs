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
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featureFlags, fileSource } from '@bulwark/feature-flags';
import { flagsMiddleware, flagRoutes } from '@bulwark/feature-flags/fastify';
import { BulwarkProvider } from '@bulwark/feature-flags/openfeature';
import { OpenFeature } from '@openfeature/server-sdk';
import { checkpointFile, checkpointSigner, createAuditLog, fileSink } from '@bulwark/audit-log';
import { auditRequests } from '@bulwark/audit-log/fastify';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { escapeHtml, sanitizeHtml } from '@bulwark/sanitize';
import { faults, outcomeSchedule, runSchedule, seededRandom, VirtualClock, assertIdle } from '@bulwark/testing';

const registry = new Registry();
const telemetry = instrument({ registry, defaultMetrics: true });

class UpstreamError extends Error {}
const breaker = circuitBreaker({ window: consecutive(2), stats: true, isFailure: handleType(UpstreamError) });
const outbound = compose(retry({ maxAttempts: 2, backoff: () => 0 }), breaker, timeout(1_000));

const app = Fastify({
  rewriteUrl: toFastifyRewriteUrl((req) => (req.path.startsWith('/v2/') ? req.url.slice(3) : undefined)),
});
const health = createHealth({ checks: [{ name: 'db', tags: ['ready'], run: () => true }] });
// The audit log first: it records the refusals of the guards registered after it, in a signed, verifiable file.
const auditDir = mkdtempSync(join(tmpdir(), 'smoke-audit-'));
const { privateKey } = generateKeyPairSync('ed25519');
const signer = checkpointSigner({ privateKey, name: 'smoke-audit' });
writeFileSync(join(auditDir, 'audit.pub'), signer.verifierKey);
const audit = createAuditLog({
  app: 'smoke',
  sink: fileSink(join(auditDir, 'audit.jsonl')),
  signer,
  checkpoints: checkpointFile(join(auditDir, 'audit.checkpoints')),
});
await app.register(auditRequests(audit, { user: (req) => req.header('x-user') }));
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
// Feature flags from a watched YAML file, on requests and through OpenFeature.
const flagFile = join(mkdtempSync(join(tmpdir(), 'smoke-flags-')), 'flags.yaml');
writeFileSync(flagFile, 'flags:\n  beta:\n    rules:\n      - targetingKeys: [alice]\n');
const flags = featureFlags({ source: fileSource(flagFile, { watch: true }), env: false });
await flags.ready();
await app.register(flagsMiddleware(flags, { targetingKey: (req) => req.header('x-user') }));
await app.register(flagRoutes(flags, { targetingKey: (req) => req.header('x-user') }));
app.get('/beta', { config: { featureFlag: 'beta', rateLimit: false } }, async (request) => ({
  beta: request.flags.isEnabled('beta'),
}));
await OpenFeature.setProviderAndWait(new BulwarkProvider(flags));
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
assert.equal((await fetch(`${url}/beta`, { headers: { 'x-user': 'bob' } })).status, 404);
// The stamp guard's response transform reaches every JSON route: flags compose with it.
assert.deepEqual(await (await fetch(`${url}/beta`, { headers: { 'x-user': 'alice' } })).json(), { beta: true, v: 2 });
assert.equal(await OpenFeature.getClient().getBooleanValue('beta', false, { targetingKey: 'alice' }), true);
await flags.set('beta', { rules: [{ targetingKeys: ['alice', 'bob'] }] });
assert.equal((await fetch(`${url}/beta`, { headers: { 'x-user': 'bob' } })).status, 200);
const metrics = await (await fetch(`${url}/metrics`)).text();
assert.match(
  metrics,
  /bulwark_flag_evaluations_total\{name="flags",flag="beta",variant="on",reason="TARGETING_MATCH"\}/,
);
assert.match(metrics, /bulwark_circuit_state\{name="",state="open"\} 1/);
assert.match(metrics, /process_cpu_user_seconds_total/);
assert.deepEqual(
  { failures: breaker.stats().failures, rejections: breaker.stats().rejections },
  { failures: 2, rejections: 0 },
);
audit.record({ event: 'authn_login_fail', args: ['mallory'], data: { password: 'hunter2' } });
await audit.close();
const auditLines = readFileSync(join(auditDir, 'audit.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
assert.deepEqual(
  auditLines.map((r) => [r.event, r.status]),
  [
    ['excess_rate_limit_exceeded:127.0.0.1', 429],
    ['authn_login_fail:mallory', undefined],
  ],
);
assert.equal(auditLines[1].data.password, '[REDACTED]');
const verified = execFileSync(
  'node_modules/.bin/bulwark-audit',
  [
    'verify',
    join(auditDir, 'audit.jsonl'),
    '--checkpoints',
    join(auditDir, 'audit.checkpoints'),
    '--pubkey',
    join(auditDir, 'audit.pub'),
  ],
  { encoding: 'utf8' },
);
assert.match(verified, /^ok: 2 records, 1 signed checkpoint\(s\) verified/);
// @bulwark/testing: a retrying client under generated schedules and injected faults, on a virtual clock.
await fc.assert(
  fc.asyncProperty(outcomeSchedule({ maxCalls: 5 }), async (schedule) => {
    const clock = new VirtualClock();
    const client = compose(
      retry({ maxAttempts: 3, backoff: () => 10, clock }),
      timeout(200, { clock }),
      faults({ rate: 0.2, random: seededRandom(1) }),
    );
    const results = await runSchedule({
      clock,
      schedule,
      run: (upstream) => client.execute(({ signal }) => upstream(signal)),
    });
    assert.ok(results.every((r) => r.status !== 'pending'));
    assertIdle({ clock });
  }),
  { numRuns: 20 },
);
// @bulwark/sanitize's README example, as written there.
assert.equal(
  sanitizeHtml('<p onclick="x()">Hi <a href="javascript:alert(1)">there</a><script>steal()</script></p>', 'basic'),
  '<p>Hi <a>there</a></p>',
);
assert.equal(
  sanitizeHtml('<p>ok <a href="http://x">x</a><code>c</code></p>', {
    tags: ['p', 'a', 'code'],
    attributes: { a: ['href'] },
    schemes: { href: ['https'] },
  }),
  '<p>ok <a>x</a><code>c</code></p>',
);
assert.equal(escapeHtml('<b title="x">'), '&lt;b title=&quot;x&quot;&gt;');
telemetry.dispose();
await OpenFeature.close();
await flags.close();
await app.close();
await health.close();
console.log('esm-fastify: ok');
