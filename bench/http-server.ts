/**
 * A server for the adapter-overhead benchmark:
 * `<framework> <bare|bare-again|guard|handwritten|ratelimit|ratelimit-noheaders|anchor|fields|bytes|spin<ns>|livez…>`.
 * `guard` mounts a no-op synchronous guard through the Bulwark adapter; `handwritten` mounts the framework's own
 * no-op middleware (the least any middleware costs there); `bare` mounts nothing, and so does `bare-again` (an A/A
 * control: how far two identical servers read apart in one run). `ratelimit` mounts Bulwark's rate limiter (memory
 * store, never limiting; `ratelimit-noheaders` without its response headers) and `anchor` the framework's usual one
 * (express-rate-limit, @fastify/rate-limit, koa-ratelimit), both keyed by client IP with standard headers. Two
 * controls split the cost of those headers: `fields` sends the same two draft-10 fields from a hand-written
 * middleware (a per-request value, as a limiter's), `bytes` sends no fields but a response longer by as many bytes
 * as they take. `spin300` runs a loop calibrated to ~300 ns per request, to read what a known amount of added
 * work costs on this machine. `flags` mounts the feature-flags middleware (context options as a real app sets
 * them; the route reads no flag, so this is the middleware's own cost) and `flags-eval` also reads one flag in the
 * route (building the request's context on that first read). `version-current` mounts API versioning with a request
 * on the current version, `version-deprecated` on a deprecated one (Deprecation, Sunset, Link and Vary headers), and
 * `version-handwritten` a hand-written middleware setting those same four headers; `version-vary` one setting `Vary`
 * alone (what a current version owes caches when a header can choose it) and `version-uri` versioning by path only.
 * Prints the port, then serves until killed.
 */
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { NEXT, type Guard } from '@bulwark/http';
import { toExpress } from '@bulwark/http/express';
import { toFastify } from '@bulwark/http/fastify';
import { toKoa } from '@bulwark/http/koa';
import fastifyRateLimit from '@fastify/rate-limit';
import { rateLimit as expressRateLimit } from 'express-rate-limit';
import koaRateLimit from 'koa-ratelimit';
import { rateLimiter } from '@bulwark/rate-limiter';
import { rateLimit as bulwarkExpress } from '@bulwark/rate-limiter/express';
import { rateLimit as bulwarkFastify } from '@bulwark/rate-limiter/fastify';
import { rateLimit as bulwarkKoa } from '@bulwark/rate-limiter/koa';
import { createHealth, type HealthCheck } from '@bulwark/health';
import { healthRoutes as healthExpress } from '@bulwark/health/express';
import { healthRoutes as healthFastify } from '@bulwark/health/fastify';
import { healthRoutes as healthKoa } from '@bulwark/health/koa';
import { featureFlags, type FlagsMiddlewareOptions, type RequestFlags } from '@bulwark/feature-flags';
import { flagsMiddleware as flagsExpress } from '@bulwark/feature-flags/express';
import { flagsMiddleware as flagsFastify } from '@bulwark/feature-flags/fastify';
import { flagsMiddleware as flagsKoa } from '@bulwark/feature-flags/koa';
import { createVersioning, deprecationHeaders, headerVersion, uriVersion } from '@bulwark/api-versioning';
import { apiVersioning as versioningExpress } from '@bulwark/api-versioning/express';
import { apiVersioning as versioningFastify, fastifyRewriteUrl } from '@bulwark/api-versioning/fastify';
import { apiVersioning as versioningKoa } from '@bulwark/api-versioning/koa';

const [framework, mode] = process.argv.slice(2);
const guard: Guard = () => NEXT;
const body = { hello: 'world' };
const LIMIT = 1e6; // per minute, never reached in a run: every request pays for a full decision and its headers
const limiter = () => rateLimiter({ limit: LIMIT, windowMs: 60_000 });
// Health modes serve GET /livez: `livez` through Bulwark's endpoints with ten cached checks, `livez-bare` a
// hand-written route answering "ok", `livez-bare-headers` the same with the probe's Cache-Control.
const health = () => {
  const checks: HealthCheck[] = Array.from({ length: 10 }, (_, i) => ({
    name: `dep-${i}`,
    tags: ['live'],
    cacheMs: 3_600_000,
    run: () => true,
  }));
  return createHealth({ checks });
};
// The two fields Bulwark's limiter sends here (its default policy name for LIMIT per 60 s), for the `fields` and
// `bytes` controls. `remaining` counts down, so each value is built per request like the limiter's.
const POLICY_FIELD = `"${LIMIT}-in-60s";q=${LIMIT};w=60`;
let remaining = LIMIT;
const rateLimitField = () => `"${LIMIT}-in-60s";r=${--remaining};t=1`;
const fieldBytes = `ratelimit-policy: ${POLICY_FIELD}\r\nratelimit: ${rateLimitField()}\r\n`.length;
// `{"hello":"world"}` plus `,"pad":"…"` (9 bytes of JSON around the padding), less the extra digit(s) the longer
// body adds to Content-Length: the whole response is fieldBytes longer.
const bodyLength = JSON.stringify(body).length;
const lengthDigits = String(bodyLength + fieldBytes).length - String(bodyLength).length;
const paddedBody = { ...body, pad: 'x'.repeat(fieldBytes - 9 - lengthDigits) };
const replyBody = mode === 'bytes' ? paddedBody : body;
// `spin<ns>`: a dependent arithmetic loop, timed here once warm, run for about `ns` nanoseconds per request.
let spinSink = 0;
const spinLoop = (k: number): void => {
  for (let i = 0; i < k; i++) spinSink = (spinSink * 31 + i) | 0;
};
const spin = ((): (() => void) | undefined => {
  if (!mode?.startsWith('spin')) return undefined;
  for (let r = 0; r < 5; r++) spinLoop(1e6);
  const started = process.hrtime.bigint();
  spinLoop(1e7);
  const k = Math.round(Number(mode.slice(4)) / (Number(process.hrtime.bigint() - started) / 1e7));
  return () => spinLoop(k);
})();
const probeHeaders = { 'cache-control': 'no-store' };
// Flag modes: the middleware with a context as an app would build it; `flags-eval` reads one flag per request.
const flags = featureFlags({ flags: { flags: { simple: {} } }, env: false });
const flagContext: FlagsMiddlewareOptions = { targetingKey: (req) => req.header('x-user-id'), headers: ['user-agent'] };
const withFlags = mode === 'flags' || mode === 'flags-eval';
// Versioning modes: requests name no version and get the default, current (2) or deprecated (1); `version-uri`
// reads versions from the path only (no header can choose one, so no `Vary` is owed).
const withVersioning = mode === 'version-current' || mode === 'version-deprecated' || mode === 'version-uri';
const deprecated = {
  deprecatedAt: Date.parse('2026-01-01T00:00:00Z'),
  sunsetAt: Date.parse('2099-01-01T00:00:00Z'),
  deprecationLink: 'https://developer.example.com/deprecation',
};
const versioning = createVersioning({
  versions: [{ version: '1', ...deprecated }, { version: '2' }],
  extract: mode === 'version-uri' ? [uriVersion()] : [uriVersion(), headerVersion()],
  defaultVersion: mode === 'version-deprecated' ? '1' : '2',
});
const handwrittenHeaders = { ...deprecationHeaders(deprecated), vary: 'x-api-version' };
const varyHeader = { vary: 'x-api-version' };

// The runner reads this process's CPU time around a measurement window (on stdin 'cpu'), because on a small
// machine CPU per request is far steadier than throughput, which the load generator's scheduling swamps. User and
// kernel time apart: on loopback the kernel part includes delivering each response to the load generator.
process.stdin.setEncoding('utf8');
process.stdin.on('data', (line: string) => {
  if (line.trim() === 'cpu') {
    const { user, system } = process.cpuUsage();
    console.log(`cpu ${user} ${system}`);
  }
  if (line.trim() === 'exit') process.exit(0); // a clean exit, so --cpu-prof can write its profile
  // Under valgrind's callgrind (scripts/bench-http-instructions.mjs): zero the counts, or dump them under a label.
  const [command, label] = line.trim().split(' ');
  if (command === 'cg-zero' || command === 'cg-dump') {
    const args = command === 'cg-zero' ? ['-z'] : [`--dump=${label ?? 'dump'}`];
    execFileSync('callgrind_control', [...args, String(process.pid)], { stdio: 'ignore' });
    console.log(command);
  }
});

if (framework === 'express') {
  const app = express();
  if (mode === 'guard') app.use(toExpress(guard));
  if (mode === 'handwritten') app.use((_req, _res, next) => next());
  if (spin !== undefined) {
    app.use((_req, _res, next) => {
      spin();
      next();
    });
  }
  if (mode === 'fields') {
    app.use((_req, res, next) => {
      res.setHeader('ratelimit-policy', POLICY_FIELD);
      res.setHeader('ratelimit', rateLimitField());
      next();
    });
  }
  if (mode === 'ratelimit') app.use(bulwarkExpress({ limiter: limiter() }));
  if (mode === 'ratelimit-noheaders') app.use(bulwarkExpress({ limiter: limiter(), headers: false }));
  if (mode === 'anchor')
    app.use(expressRateLimit({ windowMs: 60_000, limit: LIMIT, standardHeaders: 'draft-8', legacyHeaders: false }));
  if (mode === 'livez') app.use(healthExpress(health()));
  if (mode === 'livez-bare') app.get('/livez', (_req, res) => void res.send('ok'));
  if (mode === 'livez-bare-headers') app.get('/livez', (_req, res) => void res.set(probeHeaders).send('ok'));
  if (withFlags) app.use(flagsExpress(flags, flagContext));
  if (withVersioning) app.use(versioningExpress(versioning));
  if (mode === 'version-handwritten' || mode === 'version-vary') {
    const headers = mode === 'version-vary' ? varyHeader : handwrittenHeaders;
    app.use((_req, res, next) => {
      res.set(headers);
      next();
    });
  }
  if (mode === 'flags-eval') app.get('/', (req, res) => void res.json(req.flags!.isEnabled('simple') ? replyBody : {}));
  app.get('/', (_req, res) => void res.json(replyBody));
  const server = app.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
} else if (framework === 'fastify') {
  const app = Fastify(withVersioning ? { rewriteUrl: fastifyRewriteUrl(versioning) } : {});
  if (mode === 'guard') await app.register(toFastify(guard, { name: 'bench-noop' }));
  if (mode === 'handwritten') app.addHook('onRequest', (_request, _reply, done) => done());
  if (spin !== undefined) {
    app.addHook('onRequest', (_request, _reply, done) => {
      spin();
      done();
    });
  }
  if (mode === 'fields') {
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('ratelimit-policy', POLICY_FIELD);
      reply.header('ratelimit', rateLimitField());
      done();
    });
  }
  if (mode === 'ratelimit') await app.register(bulwarkFastify({ limiter: limiter() }));
  if (mode === 'ratelimit-noheaders') await app.register(bulwarkFastify({ limiter: limiter(), headers: false }));
  if (mode === 'anchor') await app.register(fastifyRateLimit, { max: LIMIT, timeWindow: 60_000 });
  if (mode === 'livez') await app.register(healthFastify(health()));
  if (mode === 'livez-bare') app.get('/livez', async () => 'ok');
  if (mode === 'livez-bare-headers')
    app.get('/livez', async (_request, reply) => reply.headers(probeHeaders).send('ok'));
  if (withFlags) await app.register(flagsFastify(flags, flagContext));
  if (withVersioning) await app.register(versioningFastify(versioning));
  if (mode === 'version-handwritten' || mode === 'version-vary') {
    const headers = mode === 'version-vary' ? varyHeader : handwrittenHeaders;
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
  }
  if (mode === 'flags-eval') app.get('/', async (request) => (request.flags.isEnabled('simple') ? replyBody : {}));
  else app.get('/', async () => replyBody);
  await app.listen({ port: 0, host: '127.0.0.1' });
  console.log((app.server.address() as AddressInfo).port);
} else {
  const app = new Koa();
  if (mode === 'guard') app.use(toKoa(guard));
  if (mode === 'handwritten') app.use((_ctx, next) => next());
  if (spin !== undefined) {
    app.use((_ctx, next) => {
      spin();
      return next();
    });
  }
  if (mode === 'fields') {
    app.use((ctx, next) => {
      ctx.set('ratelimit-policy', POLICY_FIELD);
      ctx.set('ratelimit', rateLimitField());
      return next();
    });
  }
  if (mode === 'ratelimit') app.use(bulwarkKoa({ limiter: limiter() }));
  if (mode === 'ratelimit-noheaders') app.use(bulwarkKoa({ limiter: limiter(), headers: false }));
  if (mode === 'anchor')
    app.use(koaRateLimit({ driver: 'memory', db: new Map(), duration: 60_000, max: LIMIT, id: (ctx) => ctx.ip }));
  if (mode === 'livez') app.use(healthKoa(health()));
  if (withFlags) app.use(flagsKoa(flags, flagContext));
  if (withVersioning) app.use(versioningKoa(versioning));
  if (mode === 'version-handwritten' || mode === 'version-vary') {
    const headers = mode === 'version-vary' ? varyHeader : handwrittenHeaders;
    app.use((ctx, next) => {
      ctx.set(headers);
      return next();
    });
  }
  app.use((ctx) => {
    if (ctx.path === '/livez' && mode === 'livez-bare-headers') ctx.set(probeHeaders);
    if (mode === 'flags-eval') ctx.body = (ctx.state.flags as RequestFlags).isEnabled('simple') ? replyBody : {};
    else ctx.body = ctx.path === '/livez' ? 'ok' : replyBody;
  });
  const server = app.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
}
