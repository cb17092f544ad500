/**
 * The demo service: every Bulwark primitive built so far, mounted on one Express app.
 *
 * - inbound: `loadShedding` with an adaptive concurrency limit (503 when overloaded), `requestId()`, and a
 *   framework-free guard that resolves the client address the safe way.
 * - `/quote`: an outbound call to a deliberately slow, flaky upstream under
 *   `compose(fallback, retry, circuitBreaker, bulkhead, timeout)`.
 * - `/payments/*`: a route group shed with 503 by `shedWhenOpen` while its 5xx responses have its breaker open.
 * - `/status`: the live state of the limiter, breakers and bulkhead.
 * - `/metrics`: Prometheus series for every primitive and HTTP request durations by route (@bulwark/telemetry).
 * - `/health`, `/livez`, `/readyz`, `/startupz`: health checks (event loop, heap, the quote upstream's circuit),
 *   mounted first so load shedding never refuses a probe; `server.ts` adds graceful shutdown.
 */
import express from 'express';
import { adaptiveLimit, bulkhead } from '@bulwark/bulkhead';
import { loadShedding } from '@bulwark/bulkhead/express';
import { circuitBreaker, consecutive, isBrokenCircuitError } from '@bulwark/circuit-breaker';
import { shedWhenOpen } from '@bulwark/circuit-breaker/express';
import { compose, fallback, isTimeoutError, timeout } from '@bulwark/core';
import { clientIpResolver, ipKey, type Guard } from '@bulwark/http';
import { requestId, requestSignal, toExpress } from '@bulwark/http/express';
import { memoryStore, rateLimiter, rateLimits, type Decision } from '@bulwark/rate-limiter';
import { rateLimit } from '@bulwark/rate-limiter/express';
import { exponential, retry, retryBudget } from '@bulwark/retry';
import { createHealth, eventLoopDelayCheck, heapCheck, type Health } from '@bulwark/health';
import { healthRoutes } from '@bulwark/health/express';
import { instrument, type Instrumentation } from '@bulwark/telemetry';
import { metricsRoute, requestMetrics, statusPage } from '@bulwark/telemetry/express';
import { Registry } from 'prom-client';

export interface DemoOptions {
  /** Proxies to trust for X-Forwarded-For (default: none). */
  trustProxy?: number | string[];
  /** The outbound deadline for /quote, in ms. */
  timeoutMs?: number;
}

const isLoopback = (ip: string) => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';

/** A query parameter as text: Express parses `?a=1&a=2` to an array and `?a[b]=1` to an object. */
function text(value: unknown, otherwise: string): string {
  return typeof value === 'string' ? value : otherwise;
}

/** The demo app, with its health checks (for graceful shutdown) and its telemetry. */
export type DemoApp = express.Express & { readonly health: Health; readonly telemetry: Instrumentation };

export function createApp(options: DemoOptions = {}): DemoApp {
  const app = express();
  // Telemetry first: request durations for everything, and /metrics with every primitive's series.
  const registry = new Registry();
  const telemetry = instrument({ registry });
  app.use(requestMetrics({ registry }));
  app.use(metricsRoute({ registry }));
  // Health endpoints first, so load shedding never refuses a probe.
  const health = createHealth({
    version: '1',
    serviceId: 'bulwark-demo',
    checks: [
      eventLoopDelayCheck({ warnMs: 100, failMs: 1000, tags: ['live', 'ready'] }),
      heapCheck({ tags: ['live', 'ready'], cacheMs: 1000 }),
      // An open upstream circuit (the breaker is built below; the check reads it only when probed) degrades /quote (it serves the fallback) but the service stays ready: non-critical.
      {
        name: 'quote-upstream',
        componentType: 'component',
        critical: false,
        run: () => ({
          status: quoteBreaker.state === 'open' ? 'fail' : 'pass',
          output: `circuit ${quoteBreaker.state}`,
        }),
      },
    ],
  });

  app.use(healthRoutes(health));

  const ipOf = clientIpResolver({ trustProxy: options.trustProxy ?? false });

  // Inbound: shed load beyond what the service is handling well, before doing any work.
  const inbound = adaptiveLimit({
    algorithm: 'gradient',
    initialLimit: 50,
    minLimit: 10,
    maxLimit: 500,
    name: 'inbound',
  });
  // The live status page at /bulwark, before load shedding: loopback only (the demo's operators are on this
  // machine). Breakers and limits appear with their first call while the page is open.
  app.use(statusPage({ authorize: (req) => isLoopback(req.ip), health, bulkheads: [inbound] }));
  app.use(loadShedding({ limiter: inbound }));

  // Framework-free middleware: decide the client's address once, hand it to every route.
  const clientAddress: Guard = (req) => {
    const ip = ipOf(req);
    return { kind: 'next', state: { clientIp: ip, clientKey: ipKey(ip) } };
  };
  app.use(requestId());
  app.use(toExpress(clientAddress));

  app.get('/whoami', (_req, res) => {
    res.json({ requestId: res.locals.requestId, ip: res.locals.clientIp, rateLimitKey: res.locals.clientKey });
  });

  // The "upstream": answers after ?delay ms, or fails with ?fail=1.
  app.get('/upstream', (req, res) => {
    const delay = Math.min(Number(text(req.query.delay, '50')) || 0, 5_000);
    const timer = setTimeout(() => {
      if (req.query.fail === '1') res.status(503).json({ error: 'upstream unavailable' });
      else res.json({ quote: 'Simple things should be simple, complex things should be possible.' });
    }, delay);
    res.on('close', () => clearTimeout(timer));
  });

  // Outbound: a cached answer when all else fails; one retry (within a budget); a breaker, which counts every
  // attempt (it sits inside the retry) and, once open, fails the call at once; at most 8 calls in flight; a deadline
  // per attempt.
  const quoteBreaker = circuitBreaker({ name: 'quote-upstream', window: consecutive(5), openMs: 10_000 });
  const quotePool = bulkhead({ name: 'quote-upstream', maxConcurrent: 8, maxQueue: 16, queueTimeoutMs: 1_000 });
  const policy = compose(
    fallback((error: unknown) => ({
      quote: 'Cached: the upstream was slow or down.',
      source: 'fallback' as const,
      reason: isTimeoutError(error)
        ? 'timeout'
        : isBrokenCircuitError(error)
          ? 'circuit open'
          : String((error as Error).message),
    })),
    retry({
      maxAttempts: 2,
      backoff: exponential({ baseMs: 20, maxMs: 100 }),
      budget: retryBudget(),
      name: 'quote-upstream',
    }),
    quoteBreaker,
    quotePool,
    timeout(options.timeoutMs ?? 200, { name: 'quote-upstream' }),
  );

  app.get('/quote', async (req, res) => {
    const started = performance.now();
    const query = new URLSearchParams({ delay: text(req.query.delay, '50'), fail: text(req.query.fail, '0') });
    const url = `${req.protocol}://${req.get('host')}/upstream?${query.toString()}`;
    // The caller's signal: if our client goes away, stop the outbound call too.
    const result = await policy.execute(async ({ signal }) => {
      const upstream = await fetch(url, { signal });
      if (!upstream.ok) throw new Error(`upstream answered ${upstream.status}`);
      return { ...((await upstream.json()) as { quote: string }), source: 'live' as const };
    }, requestSignal(req));
    res.json({ ...result, elapsedMs: Math.round(performance.now() - started), requestId: res.locals.requestId });
  });

  // A route group protected by its own breaker: three 5xx in a row open it, and then the group answers 503 at
  // once (with Retry-After) instead of piling onto a failing dependency.
  const payments = express.Router();
  const paymentsBreaker = circuitBreaker({ name: 'payments', window: consecutive(3), openMs: 15_000 });
  payments.use(shedWhenOpen({ breaker: paymentsBreaker }));
  payments.get('/charge', (req, res) => {
    if (req.query.fail === '1') res.status(502).json({ error: 'payment provider failed' });
    else res.json({ charged: true });
  });
  app.use('/payments', payments);

  // Per-client rate limits on one route: 3 per 10 s and 20 per hour, decided together (a request refused by one
  // is counted by neither), keyed by the client address (IPv6 by /64), with IETF RateLimit headers.
  const limitsStore = memoryStore();
  const searchLimits = rateLimits([
    rateLimiter({ name: 'burst', limit: 3, windowMs: 10_000, store: limitsStore }),
    rateLimiter({ name: 'hourly', limit: 20, windowMs: 3_600_000, store: limitsStore }),
  ]);
  app.get(
    '/search',
    rateLimit({ limiter: searchLimits, clientIp: { trustProxy: options.trustProxy ?? false } }),
    (req, res) => {
      res.json({ results: [], query: text(req.query.q, ''), remaining: (res.locals.rateLimit as Decision).remaining });
    },
  );

  app.get('/status', (_req, res) => {
    res.json({
      inbound: { limit: inbound.limit, active: inbound.active },
      quoteUpstream: { breaker: quoteBreaker.state, active: quotePool.active, queued: quotePool.queued },
      payments: { breaker: paymentsBreaker.state, retryAfterMs: Math.round(paymentsBreaker.retryAfterMs) },
    });
  });

  app.get('/', (req, res) => {
    const base = `${req.protocol}://${req.get('host')}`;
    res.type('text/plain').send(`${tryThese(base).join('\n')}\n`);
  });
  return Object.assign(app, { health, telemetry });
}

/** Commands worth trying against a running demo, with what each shows. */
export function tryThese(base: string): string[] {
  return [
    `curl -i ${base}/whoami                 # client address, its rate-limit key, the request id`,
    `curl -i ${base}/whoami -H 'x-forwarded-for: 1.2.3.4'    # spoofed header ignored: no proxy trusted`,
    `curl -i ${base}/quote                  # upstream answers in 50 ms: source "live"`,
    `curl -i '${base}/quote?delay=1000'     # too slow: timeout at 200 ms, one retry, then source "fallback"`,
    `curl -i '${base}/quote?fail=1'         # upstream fails: retried once, then "fallback"; every attempt counts, so the`,
    `                                           # 3rd such request opens the circuit (5 failures in a row) and /quote then`,
    `                                           # answers "circuit open" at once for 10 s`,
    `curl -i '${base}/payments/charge?fail=1'   # 502; three in a row open the payments circuit...`,
    `curl -i ${base}/payments/charge        # ...and then the whole group answers 503 + Retry-After at once`,
    `curl -i '${base}/search?q=x'           # RateLimit-Policy / RateLimit headers; the 4th call in 10 s gets 429`,
    `curl -s ${base}/status                 # adaptive inbound limit, breakers, bulkhead`,
    `curl -s ${base}/health                 # application/health+json: every check, pass/warn/fail`,
    `curl -s ${base}/metrics | grep bulwark_ # Prometheus: policy calls, circuit states, rate-limit decisions...`,
    `open ${base}/bulwark in a browser      # the live status page: breakers, limits, bulkheads, checks`,
    `curl -s '${base}/readyz?verbose'       # Kubernetes-style readiness, one line per check`,
  ];
}
