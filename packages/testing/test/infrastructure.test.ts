import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { compose, timeout } from '@bulwark/core';
import { circuitBreaker, consecutive, isBrokenCircuitError } from '@bulwark/circuit-breaker';
import { rateLimiter } from '@bulwark/rate-limiter';
import { redisStore } from '@bulwark/rate-limiter/redis';
import { constant, retry } from '@bulwark/retry';
import { faultProxy, flakyUpstream, type FaultProxy, type FlakyUpstream } from '../src/index.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('flakyUpstream (a real HTTP server)', () => {
  it('answers from its script; retry and a breaker around fetch see every kind of failure', async () => {
    const upstream: FlakyUpstream = await flakyUpstream(['error', 'busy', { status: 200, delayMs: 5, body: 'late' }]);
    cleanup.push(() => upstream.close());
    const policy = compose(retry({ maxAttempts: 3, backoff: constant(1), retryAfter: false }), timeout(2_000));
    const body = await policy.execute(async ({ signal }) => {
      const res = await fetch(upstream.url, { signal });
      if (res.status >= 500) throw Object.assign(new Error(`status ${res.status}`), { status: res.status });
      return res.text();
    });
    expect(body).toBe('late');
    expect(upstream.served()).toBe(3);
    expect(upstream.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'GET']);
  });

  it('reset, hang and the fallback: a breaker opens on resets, a timeout ends a hang', async () => {
    const upstream = await flakyUpstream(['reset', 'reset', 'hang'], { fallback: { status: 204 } });
    cleanup.push(() => upstream.close());
    const breaker = circuitBreaker({ window: consecutive(2), openMs: 60_000 });
    const call = (ms = 2_000) => compose(breaker, timeout(ms)).execute(({ signal }) => fetch(upstream.url, { signal }));
    await expect(call()).rejects.toThrow(/fetch failed/);
    await expect(call()).rejects.toThrow(/fetch failed/);
    await expect(call()).rejects.toSatisfy(isBrokenCircuitError);
    expect(upstream.served()).toBe(2);
    await expect(timeout(100).execute(({ signal }) => fetch(upstream.url, { signal }))).rejects.toThrow(/timed out/);
    expect((await fetch(upstream.url)).status).toBe(204);
  });
});

/** A TCP echo server, to see exactly what the proxy lets through. */
async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {}); // the proxy resets its side on purpose
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function client(port: number) {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  const ended = new Promise<string>((resolve) => {
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    socket.on('close', () => resolve('closed'));
  });
  const until = async (text: string) => {
    for (let i = 0; i < 400 && !received.includes(text); i++) await new Promise((r) => setTimeout(r, 5));
    return received;
  };
  return { socket, received: () => received, until, ended };
}

describe('faultProxy (a real TCP proxy)', () => {
  let proxy: FaultProxy;
  async function setup() {
    const echo = await echoServer();
    proxy = await faultProxy({ port: echo.port });
    cleanup.push(echo.close, () => proxy.stop());
    const c = client(proxy.port);
    cleanup.push(() => void c.socket.destroy());
    return c;
  }

  it('passes bytes both ways, and holds them while frozen, releasing them in order', async () => {
    const c = await setup();
    c.socket.write('one;');
    expect(await c.until('one;')).toBe('one;');
    proxy.freeze();
    c.socket.write('two;');
    c.socket.write('three;');
    await new Promise((r) => setTimeout(r, 50));
    expect(c.received()).toBe('one;'); // nothing crosses a frozen link...
    expect(proxy.connections).toBe(1); // ...and the connection stays open
    proxy.pass();
    expect(await c.until('three;')).toBe('one;two;three;');
  });

  it('delays every chunk by at least the given time', async () => {
    const c = await setup();
    proxy.delay(100);
    const started = Date.now();
    c.socket.write('ping');
    await c.until('ping');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100 * 2 - 5); // there and back
  });

  it('reset() kills open connections with a TCP reset; close() ends them and refuses new ones until pass()', async () => {
    const c = await setup();
    c.socket.write('x');
    await c.until('x');
    proxy.reset();
    expect(await c.ended).toBe('ECONNRESET');
    const d = client(proxy.port);
    cleanup.push(() => void d.socket.destroy());
    d.socket.write('y');
    await d.until('y');
    proxy.close();
    expect(await d.ended).toBe('closed');
    const refused = client(proxy.port);
    expect(await refused.ended).toMatch(/closed|ECONNRESET/);
    proxy.pass();
    const e = client(proxy.port);
    cleanup.push(() => void e.socket.destroy());
    e.socket.write('z');
    expect(await e.until('z')).toBe('z');
  });
});

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = await new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 }).connect().then(
  () => true,
  () => {
    if (process.env.CI === 'true') throw new Error(`Redis at ${REDIS_URL} is required in CI`);
    console.warn(`\n!!! Redis at ${REDIS_URL} is not reachable: the "Redis froze" recipe test is SKIPPED\n`);
    return false;
  },
);

describe.skipIf(!redisUp)('recipe: "Redis froze for a while" in CI, without root', () => {
  it("a limiter's Redis store answers by its onError policy within its timeout, and exactly again after", async () => {
    const url = new URL(REDIS_URL);
    const proxy = await faultProxy({ port: Number(url.port || 6379), host: url.hostname });
    const redis = new Redis({ port: proxy.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    cleanup.push(
      () => proxy.stop(),
      () => void redis.disconnect(),
    );
    const prefix = `bulwark:test:${Date.now()}:${Math.random()}:`;
    const limiter = rateLimiter({
      limit: 2,
      windowMs: 60_000,
      store: redisStore({ client: redis, prefix, timeoutMs: 100, onError: 'open', errorBackoffMs: 50 }),
    });
    expect((await limiter.consume('k')).allowed).toBe(true);
    proxy.freeze();
    const started = Date.now();
    const during = await limiter.consume('k');
    expect(during.allowed).toBe(true); // failed open, as configured...
    expect(during.error).toBeDefined(); // ...and says why
    expect(Date.now() - started).toBeLessThan(1_000); // within its command timeout, not stuck behind the freeze
    proxy.pass();
    // The store keeps off Redis for errorBackoffMs after a failure; then it is exact again. The frozen command was
    // released by pass() and reached Redis, so both units of the limit are used: the next clean decision refuses.
    let after = await limiter.consume('k');
    for (let i = 0; i < 200 && after.error !== undefined; i++) {
      await new Promise((r) => setTimeout(r, 10));
      after = await limiter.consume('k');
    }
    expect(after.allowed).toBe(false);
    expect(after.error).toBeUndefined();
  });
});
