import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';

let server: Server;
let base: string;
beforeAll(async () => {
  server = await new Promise<Server>((resolve) => {
    const s = createApp({ timeoutMs: 200 }).listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const json = async (path: string) => (await (await fetch(`${base}${path}`)).json()) as Record<string, unknown>;

describe('demo service', () => {
  it('lists what to try', async () => {
    const text = await (await fetch(base)).text();
    expect(text).toContain('/quote?delay=1000');
    expect(text).toContain('/payments/charge');
  });

  it('whoami: socket address, ignores a spoofed X-Forwarded-For, echoes the request id', async () => {
    const res = await fetch(`${base}/whoami`, { headers: { 'x-forwarded-for': '1.2.3.4', 'x-request-id': 'demo-1' } });
    expect(res.headers.get('x-request-id')).toBe('demo-1');
    expect(await res.json()).toEqual({ requestId: 'demo-1', ip: '127.0.0.1', rateLimitKey: '127.0.0.1' });
  });

  it('quote: live when the upstream is quick, fallback on timeout and on failure', async () => {
    expect((await json('/quote?delay=10')).source).toBe('live');
    const slow = await json('/quote?delay=2000');
    expect(slow).toMatchObject({ source: 'fallback', reason: 'timeout' });
    expect(slow.elapsedMs).toBeLessThan(2000);
    expect(await json('/quote?fail=1')).toMatchObject({ source: 'fallback', reason: 'upstream answered 503' });
  });

  it('search: draft-10 RateLimit headers; the fourth call in 10 s is refused with 429, Retry-After and a problem body', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${base}/search?q=bulwark`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.headers.get('ratelimit-policy')).toBe('"burst";q=3;w=10, "hourly";q=20;w=3600');
    expect(last!.headers.get('ratelimit')).toMatch(/^"burst";r=0;t=\d+, "hourly";r=17;t=\d+$/);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await last!.json()) as Record<string, unknown>)['violated-policies']).toEqual(['burst']);
  });

  it('payments: three 502s open its circuit, then the group is shed with 503 + Retry-After', async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/payments/charge?fail=1`)).status).toBe(502);
    const shed = await fetch(`${base}/payments/charge`);
    expect(shed.status).toBe(503);
    expect(Number(shed.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await json('/status')).toMatchObject({ payments: { breaker: 'open' }, inbound: { active: 1 } });
  });

  it('health: the health+json document and Kubernetes probes, mounted ahead of load shedding', async () => {
    const doc = await fetch(`${base}/health`);
    expect(doc.headers.get('content-type')).toBe('application/health+json');
    expect(doc.headers.get('cache-control')).toBe('no-store');
    const body = (await doc.json()) as { serviceId: string; checks: Record<string, unknown[]> };
    expect(body.serviceId).toBe('bulwark-demo');
    expect(Object.keys(body.checks).sort()).toEqual(['event-loop:delay', 'heap:utilization', 'quote-upstream']);
    expect(await (await fetch(`${base}/livez`)).text()).toBe('ok');
    const ready = await (await fetch(`${base}/readyz?verbose`)).text();
    expect(ready).toMatch(/\[\+\]quote-upstream (ok|failed \(non-critical\): reason withheld)\n/);
    expect(ready).toMatch(/readyz check passed\n$/);
  });

  it('status page: served to loopback, streaming the inbound limit and the breakers as they are called', async () => {
    const page = await fetch(`${base}/bulwark`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/bulwark/status.js" defer>');
    const controller = new AbortController();
    const events = await fetch(`${base}/bulwark/events`, { signal: controller.signal });
    expect(events.headers.get('content-type')).toBe('text/event-stream');
    const reader = events.body!.getReader();
    await fetch(`${base}/quote?delay=10`);
    let text = '';
    while (!text.includes('"name":"quote-upstream"')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('"bulkheads":[{"name":"inbound"');
    controller.abort();
  });

  it('metrics: Prometheus series for the primitives and request durations by route template', async () => {
    await fetch(`${base}/quote?delay=10`);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(
      /bulwark_policy_calls_total\{policy="circuit-breaker",name="quote-upstream",outcome="success"\} \d+/,
    );
    expect(text).toMatch(
      /http_server_request_duration_seconds_count\{http_request_method="GET",http_route="\/quote",http_response_status_code="200"\} \d+/,
    );
  });
});

describe('demo service: the quote circuit', () => {
  it('opens on the 3rd failing request (2 attempts each), then every /quote fails fast to the fallback', async () => {
    const app = createApp({ timeoutMs: 200 });
    const own = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(own.address() as AddressInfo).port}`;
    const quote = async (query: string) =>
      (await (await fetch(`${url}/quote${query}`)).json()) as Record<string, unknown>;
    try {
      const reasons: unknown[] = [];
      for (let i = 0; i < 4; i++) reasons.push((await quote('?fail=1')).reason);
      expect(reasons).toEqual(['upstream answered 503', 'upstream answered 503', 'circuit open', 'circuit open']);
      // A healthy upstream does not help while the circuit is open: the refusal is immediate, not a 10 s wait.
      const healthy = await quote('');
      expect(healthy).toMatchObject({ source: 'fallback', reason: 'circuit open' });
      expect(healthy.elapsedMs).toBeLessThan(1_000);
    } finally {
      own.closeAllConnections();
      await new Promise((r) => own.close(r));
    }
  });
});
