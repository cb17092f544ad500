/**
 * The demo service: every Bulwark primitive built so far, mounted on one Express app.
 *
 * - `requestId()` from @bulwark/http: every response carries X-Request-Id.
 * - a neutral guard (the same code would mount on Fastify or Koa) that resolves the client address the safe way.
 * - `/quote`: an outbound call to a deliberately slow, flaky upstream, under `compose(fallback, timeout)`.
 */
import express from 'express';
import { compose, fallback, isTimeoutError, timeout } from '@bulwark/core';
import { clientIpResolver, ipKey, type Guard } from '@bulwark/http';
import { requestId, toExpress } from '@bulwark/http/express';

export interface DemoOptions {
  /** Proxies to trust for X-Forwarded-For (default: none). */
  trustProxy?: number | string[];
  /** The outbound deadline for /quote, in ms. */
  timeoutMs?: number;
}

/** A query parameter as text: Express parses `?a=1&a=2` to an array and `?a[b]=1` to an object. */
function text(value: unknown, otherwise: string): string {
  return typeof value === 'string' ? value : otherwise;
}

export function createApp(options: DemoOptions = {}): express.Express {
  const app = express();
  const ipOf = clientIpResolver({ trustProxy: options.trustProxy ?? false });

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

  // The outbound policy: a deadline, and a cached answer when the deadline passes or the upstream fails.
  const deadline = timeout(options.timeoutMs ?? 200, { name: 'quote-upstream' });
  const policy = compose(
    fallback((error: unknown) => ({
      quote: 'Cached: the upstream was slow or down.',
      source: 'fallback' as const,
      reason: isTimeoutError(error) ? 'timeout' : String((error as Error).message),
    })),
    deadline,
  );

  app.get('/quote', async (req, res) => {
    const started = performance.now();
    const query = new URLSearchParams({ delay: text(req.query.delay, '50'), fail: text(req.query.fail, '0') });
    const url = `${req.protocol}://${req.get('host')}/upstream?${query.toString()}`;
    // The caller's signal: if our client goes away, stop the outbound call too.
    const client = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) client.abort(new Error('client disconnected'));
    });
    const result = await policy.execute(async ({ signal }) => {
      const upstream = await fetch(url, { signal });
      if (!upstream.ok) throw new Error(`upstream answered ${upstream.status}`);
      return { ...((await upstream.json()) as { quote: string }), source: 'live' as const };
    }, client.signal);
    res.json({ ...result, elapsedMs: Math.round(performance.now() - started), requestId: res.locals.requestId });
  });

  app.get('/', (req, res) => {
    const base = `${req.protocol}://${req.get('host')}`;
    res.type('text/plain').send(`${tryThese(base).join('\n')}\n`);
  });
  return app;
}

/** Commands worth trying against a running demo, with what each shows. */
export function tryThese(base: string): string[] {
  return [
    `curl -i ${base}/whoami                # client address, its rate-limit key, the request id`,
    `curl -i ${base}/whoami -H 'x-forwarded-for: 1.2.3.4'   # spoofed header ignored: no proxy trusted`,
    `curl -i ${base}/quote                 # upstream answers in 50 ms: source "live"`,
    `curl -i '${base}/quote?delay=1000'    # upstream too slow: timeout at 200 ms, source "fallback"`,
    `curl -i '${base}/quote?fail=1'        # upstream fails: source "fallback"`,
  ];
}
