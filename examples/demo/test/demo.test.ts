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

describe('demo service', () => {
  it('lists what to try', async () => {
    const text = await (await fetch(base)).text();
    expect(text).toContain('/quote?delay=1000');
  });

  it('whoami: socket address, ignores a spoofed X-Forwarded-For, echoes the request id', async () => {
    const res = await fetch(`${base}/whoami`, { headers: { 'x-forwarded-for': '1.2.3.4', 'x-request-id': 'demo-1' } });
    expect(res.headers.get('x-request-id')).toBe('demo-1');
    expect(await res.json()).toEqual({ requestId: 'demo-1', ip: '127.0.0.1', rateLimitKey: '127.0.0.1' });
  });

  it('quote: live when the upstream is quick, fallback on timeout and on failure', async () => {
    const live = (await (await fetch(`${base}/quote?delay=10`)).json()) as Record<string, unknown>;
    expect(live.source).toBe('live');
    const slow = (await (await fetch(`${base}/quote?delay=2000`)).json()) as Record<string, unknown>;
    expect(slow).toMatchObject({ source: 'fallback', reason: 'timeout' });
    expect(slow.elapsedMs).toBeLessThan(2000);
    const failed = (await (await fetch(`${base}/quote?fail=1`)).json()) as Record<string, unknown>;
    expect(failed).toMatchObject({ source: 'fallback', reason: 'upstream answered 503' });
  });
});
