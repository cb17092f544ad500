import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isBulwarkConfigError } from '@bulwark/core';
import { bulkhead } from '@bulwark/bulkhead';
import { circuitBreaker, consecutive } from '@bulwark/circuit-breaker';
import { createHealth } from '@bulwark/health';
import { rateLimiter } from '@bulwark/rate-limiter';
import { frameworks, serve, type TestServer } from '@bulwark/test-servers';
import { statusPageEndpoint, type StatusFeedEvent, type StatusPageOptions, type StatusSnapshot } from '../src/index.js';
import { StatusCollector } from '../src/status-collector.js';

let server: TestServer | undefined;
const streams: AbortController[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.abort();
  await server?.close();
  server = undefined;
});

/** Reads a server-sent event stream: `next(event, until)` waits for an event of that type matching `until`. */
async function openEvents(url: string) {
  const controller = new AbortController();
  streams.push(controller);
  const res = await fetch(url, { signal: controller.signal, headers: { 'x-operator': 'yes' } });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let done = false;
  const read = async (): Promise<{ event: string; data: string } | undefined> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) return { event, data };
        continue;
      }
      if (done) return undefined;
      const chunk = await reader.read();
      if (chunk.done) done = true;
      else buffer += decoder.decode(chunk.value);
    }
  };
  return {
    res,
    close: () => controller.abort(),
    async next<T>(event: string, until: (value: T) => boolean = () => true): Promise<T | undefined> {
      for (;;) {
        const e = await read();
        if (e === undefined) return undefined; // the stream ended
        if (e.event !== event) continue;
        const value = JSON.parse(e.data) as T;
        if (until(value)) return value;
      }
    },
  };
}

const fail = () => Promise.reject(new Error('down'));
const options = (extra: Partial<StatusPageOptions> = {}): StatusPageOptions => ({
  authorize: (req) => req.header('x-operator') === 'yes',
  intervalMs: 100,
  ...extra,
});

describe.each(frameworks)('status page on %s', (framework) => {
  it('serves the page under its CSP, with its assets under its own path, to operators only', async () => {
    server = await serve(framework, { endpoints: [statusPageEndpoint(options({ path: '/ops/status' }))] });
    const headers = { 'x-operator': 'yes' };
    const page = await fetch(`${server.url}/ops/status`, { headers });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script src="/ops/status/status.js" defer>');
    expect(html).not.toMatch(/<script>|<style>| on\w+=/); // nothing inline
    const js = await fetch(`${server.url}/ops/status/status.js`, { headers });
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain("new EventSource(base + '/events')");
    expect((await fetch(`${server.url}/ops/status/nope`, { headers })).status).toBe(404);
    expect((await fetch(`${server.url}/ops/status`)).status).toBe(403);
    expect((await fetch(`${server.url}/ops/status/events`)).status).toBe(403);
  });

  it('streams breakers, limits, bulkheads, calls and health, and a feed of state changes', async () => {
    const payments = circuitBreaker({ name: 'payments', window: consecutive(2) });
    const limiter = rateLimiter({ name: 'api', limit: 2, windowMs: 60_000 });
    const pool = bulkhead({ name: 'db', maxConcurrent: 4 });
    const health = createHealth({ checks: [{ name: 'db', run: () => true }] });
    server = await serve(framework, { endpoints: [statusPageEndpoint(options({ health, bulkheads: [pool] }))] });
    const events = await openEvents(`${server.url}/bulwark/events`);
    expect(events.res.headers.get('content-type')).toBe('text/event-stream');
    const first = await events.next<StatusSnapshot>('snapshot');
    expect(first?.bulkheads).toEqual([{ name: 'db', active: 0, queued: 0, limit: 4 }]); // given up front

    await payments.execute(() => 1);
    await expect(payments.execute(fail)).rejects.toThrow('down');
    await expect(payments.execute(fail)).rejects.toThrow('down'); // opens
    await expect(payments.execute(() => 1)).rejects.toMatchObject({ code: 'BULWARK_CIRCUIT_OPEN' });
    for (let i = 0; i < 5; i++) limiter.consume('k');
    const held = pool.execute(() => new Promise((resolve) => setTimeout(resolve, 1_000)));

    const feed = await events.next<StatusFeedEvent>('feed');
    expect(feed).toMatchObject({ level: 'warn', text: 'circuit payments: closed → open' });
    const s = await events.next<StatusSnapshot>('snapshot', (v) => v.breakers.length > 0 && v.limiters.length > 0);
    expect(s?.breakers).toEqual([
      { name: 'payments', state: 'open', calls: 3, failures: 2, slow: 0, retryAfterMs: expect.any(Number) as number },
    ]);
    expect(s!.breakers[0]!.retryAfterMs).toBeGreaterThan(0);
    expect(s?.limiters[0]?.name).toBe('api');
    expect(s!.limiters[0]!.allowed).toBeGreaterThan(0);
    expect(s!.limiters[0]!.limited).toBeGreaterThan(0); // 2 allowed and 3 limited, per second of the interval
    expect(s?.policies.find((p) => p.policy === 'circuit-breaker')).toMatchObject({ name: 'payments' });
    expect(s?.health).toEqual({ status: 'pass', shuttingDown: false, checks: [{ name: 'db', status: 'pass' }] });
    const busy = await events.next<StatusSnapshot>('snapshot', (v) => v.bulkheads[0]?.active === 1);
    expect(busy?.bulkheads).toEqual([{ name: 'db', active: 1, queued: 0, limit: 4 }]);
    await held;

    // The JSON view holds the same state.
    const json = (await (
      await fetch(`${server.url}/bulwark/status.json`, { headers: { 'x-operator': 'yes' } })
    ).json()) as StatusSnapshot;
    expect(json.breakers[0]).toMatchObject({ name: 'payments', state: 'open' });
  });

  it('subscribes to nothing while no page is open, and ends streams when shutdown begins', async () => {
    const watching = () => diagnosticsChannel.hasSubscribers('bulwark:core:call');
    // The pages of earlier tests were closed by aborting their requests: each server notices on its own time.
    await expect.poll(watching, { timeout: 5_000 }).toBe(false);
    server = await serve(framework, { endpoints: [statusPageEndpoint(options())] });
    expect(watching()).toBe(false);
    const events = await openEvents(`${server.url}/bulwark/events`);
    await events.next('snapshot');
    expect(watching()).toBe(true);

    diagnosticsChannel.channel('bulwark:health:shutdown').publish({ step: 'begin', name: 'SIGTERM' });
    expect(await events.next<StatusFeedEvent>('feed')).toMatchObject({ text: 'shutting down (SIGTERM)' });
    expect(await events.next('snapshot')).toBeUndefined(); // the stream ended
    expect(watching()).toBe(false);

    // A page opened later starts watching again, and leaving stops it.
    const again = await openEvents(`${server.url}/bulwark/events`);
    await again.next('snapshot');
    again.close();
    await expect.poll(watching, { timeout: 5_000 }).toBe(false);
  });

  it('answers HEAD on the event stream without opening one', async () => {
    server = await serve(framework, { endpoints: [statusPageEndpoint(options({ maxClients: 1 }))] });
    const head = await fetch(`${server.url}/bulwark/events`, { method: 'HEAD', headers: { 'x-operator': 'yes' } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream');
    const one = await openEvents(`${server.url}/bulwark/events`); // the one client allowed is still free
    expect(await one.next('snapshot')).toBeDefined();
  });

  it('drops a client that stops reading; one that reads keeps its stream', async () => {
    server = await serve(framework, { endpoints: [statusPageEndpoint(options({ maxClients: 2 }))] });
    const { hostname, port } = new URL(server.url);
    const open = async () => {
      const socket = net.connect(Number(port), hostname);
      socket.write('GET /bulwark/events HTTP/1.1\r\nHost: test\r\nx-operator: yes\r\n\r\n');
      await once(socket, 'data'); // the head and the first events
      return socket;
    };
    const reader = await open();
    let read = 0;
    reader.on('data', (chunk: Buffer) => (read += chunk.length));
    const stalled = await open();
    stalled.pause();
    try {
      // About 19 MB of feed lines, 95 KB at a time with the event loop turning between: far more than the socket
      // buffers of a client that reads nothing can hold.
      const changes = diagnosticsChannel.channel('bulwark:circuit-breaker:state-change');
      for (let batch = 0; batch < 200; batch++) {
        for (let i = 0; i < 1_000; i++) changes.publish({ name: `breaker-${i}`, from: 'closed', to: 'open' });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // The stalled client's place is free again: a third page opens instead of getting 503.
      const third = await openEvents(`${server.url}/bulwark/events`);
      expect(third.res.status).toBe(200);
      expect(reader.destroyed).toBe(false);
      expect(read).toBeGreaterThan(200_000 * 80);
      // And its connection was closed: reading what it was sent reaches the end.
      stalled.resume();
      await once(stalled, 'close');
    } finally {
      reader.destroy();
      stalled.destroy();
    }
  });

  it('refuses pages beyond maxClients with 503', async () => {
    server = await serve(framework, { endpoints: [statusPageEndpoint(options({ maxClients: 1 }))] });
    const one = await openEvents(`${server.url}/bulwark/events`);
    await one.next('snapshot');
    const two = await fetch(`${server.url}/bulwark/events`, { headers: { 'x-operator': 'yes' } });
    expect(two.status).toBe(503);
    expect(two.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('status collector', () => {
  it('feeds a failing store once per interval, with the count of the failures after the first', async () => {
    const collector = new StatusCollector({
      breakers: [],
      bulkheads: [],
      // A health report read on every tick makes each tick wait for it, the one a new page starts too.
      health: { report: () => Promise.resolve({ status: 'pass', shuttingDown: false, results: [] }) },
      intervalMs: 100,
      healthIntervalMs: 0,
      now: Date.now,
    });
    const feed: StatusFeedEvent[] = [];
    const remove = collector.add({ snapshot: () => {}, feed: (e) => feed.push(e), end: () => {} });
    try {
      const errors = diagnosticsChannel.channel('bulwark:rate-limiter:store-error');
      for (let i = 0; i < 1_000; i++) {
        errors.publish({ prefix: 'rl:', operation: 'consume', decidedBy: 'open', error: new Error('down') });
      }
      expect(feed.map((e) => e.text)).toEqual(['rate-limit store (rl:) failed on consume: decided open']);
      await new Promise((resolve) => setTimeout(resolve, 250)); // a tick or two
      expect(feed.map((e) => e.text)).toEqual([
        'rate-limit store (rl:) failed on consume: decided open',
        'rate-limit store (rl:) failed 999 more times on consume: decided open',
      ]);
      errors.publish({ prefix: 'rl:', operation: 'consume', decidedBy: 'open', error: new Error('down') });
      expect(feed).toHaveLength(3); // a new interval feeds the next failure at once
    } finally {
      remove();
    }
    // A page opened later is fed the next failure at once, whatever the last page was told.
    const later: StatusFeedEvent[] = [];
    const removeLater = collector.add({ snapshot: () => {}, feed: (e) => later.push(e), end: () => {} });
    diagnosticsChannel
      .channel('bulwark:rate-limiter:store-error')
      .publish({ prefix: 'rl:', operation: 'consume', decidedBy: 'open', error: new Error('down') });
    removeLater();
    expect(later.map((e) => e.text)).toEqual(['rate-limit store (rl:) failed on consume: decided open']);
  });

  it('computes rates over the real interval when a slow health report spans several ticks', async () => {
    const slowReport = () =>
      new Promise<{ status: string; shuttingDown: boolean; results: [] }>((resolve) =>
        setTimeout(() => resolve({ status: 'pass', shuttingDown: false, results: [] }), 350),
      );
    const collector = new StatusCollector({
      breakers: [],
      bulkheads: [],
      health: { report: slowReport },
      intervalMs: 100,
      healthIntervalMs: 100,
      now: Date.now,
    });
    const snapshots: StatusSnapshot[] = [];
    const remove = collector.add({ snapshot: (s) => snapshots.push(s), feed: () => {}, end: () => {} });
    const limiter = rateLimiter({ name: 'steady', limit: 1_000_000, windowMs: 60_000 });
    // About 50 decisions a second, for a second.
    for (let i = 0; i < 50; i++) {
      limiter.consume('k');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    remove();
    const rates = snapshots.flatMap((s) => s.limiters.map((l) => l.allowed));
    expect(rates.length).toBeGreaterThan(3);
    // A tick that read the time before its slow report and the interval's start after it divided by ~1 ms.
    for (const r of rates) expect(r).toBeLessThan(500);
  });
});

describe('statusPage options', () => {
  const allow = (): boolean => true;
  it.each<[Record<string, unknown>, string]>([
    [{}, 'authorize'],
    [{ authorize: allow, path: 'bulwark' }, 'path'],
    [{ authorize: allow, path: '/bulwark/' }, 'path'],
    [{ authorize: allow, breakers: [{}] }, 'breakers.0'],
    [{ authorize: allow, health: {} }, 'health'],
    [{ authorize: allow, intervalMs: 10 }, 'intervalMs'],
    [{ authorize: allow, maxClients: 0 }, 'maxClients'],
    [{ authorize: allow, colour: 'red' }, 'colour'],
  ])('refuses %j, naming %s', (bad, field) => {
    let caught: unknown;
    try {
      statusPageEndpoint(bad as StatusPageOptions);
    } catch (error) {
      caught = error;
    }
    expect(isBulwarkConfigError(caught)).toBe(true);
    expect(JSON.stringify((caught as { issues: unknown }).issues)).toContain(field);
  });
});
