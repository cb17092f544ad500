import { afterEach, describe, expect, it } from 'vitest';
import { frameworks, serve, type TestServer } from '@bulwark/test-servers';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe.each(frameworks)('requestSignal on %s', (framework) => {
  it('aborts with an AbortError when the client goes away, and is one signal per request', async () => {
    const seen: { signal: AbortSignal; same: boolean }[] = [];
    server = await serve(framework, { onSignal: (signal, same) => seen.push({ signal, same }) });
    const client = new AbortController();
    const arrived = server.hung();
    const request = fetch(`${server.url}/signal?hang`, { signal: client.signal }).catch(() => undefined);
    await arrived;
    expect(seen).toHaveLength(1);
    expect(seen[0]!.same).toBe(true);
    expect(seen[0]!.signal.aborted).toBe(false);
    client.abort();
    await request;
    await expect.poll(() => seen[0]!.signal.aborted).toBe(true);
    expect(seen[0]!.signal.reason).toMatchObject({ name: 'AbortError' });
  });

  it('never aborts for a request that completes', async () => {
    const seen: AbortSignal[] = [];
    server = await serve(framework, { onSignal: (signal) => seen.push(signal) });
    expect(await (await fetch(`${server.url}/signal`)).text()).toBe('ok');
    expect(await (await fetch(`${server.url}/signal`)).text()).toBe('ok');
    await server.close(); // every socket closed: any abort would have happened by now
    server = undefined;
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen.map((s) => s.aborted)).toEqual([false, false]);
  });
});
