import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { toNodeEndpoints, type Endpoint } from '@bulwark/http';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function serveEndpoints(endpoints: Endpoint[], onError?: (e: unknown) => void): Promise<string> {
  server = createServer(toNodeEndpoints(endpoints, onError));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

it('toNodeEndpoints answers GET and HEAD on plain node:http, sync and async, with children; 404 otherwise', async () => {
  const url = await serveEndpoints([
    { path: '/version', handler: () => ({ status: 200, body: { version: '1.2.3' } }) },
    {
      path: '/items',
      handler: async (req) => ({ status: 200, body: `all (${req.url})` }),
      child: (_req, name) => ({ status: 200, body: `item ${name}` }),
    },
  ]);
  const version = await fetch(`${url}/version?x=1`);
  expect(version.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(await version.json()).toEqual({ version: '1.2.3' });
  expect(await (await fetch(`${url}/items?all`)).text()).toBe('all (/items?all)');
  expect(await (await fetch(`${url}/items/a%20b`)).text()).toBe('item a b');
  expect((await fetch(`${url}/version`, { method: 'HEAD' })).status).toBe(200);
  const missing = await fetch(`${url}/nope`);
  expect([missing.status, missing.headers.get('cache-control')]).toEqual([404, 'no-store']);
  expect((await fetch(`${url}/version`, { method: 'DELETE' })).status).toBe(404);
});

it('a handler that throws or rejects gets 500 and its error goes to onError; the server keeps serving', async () => {
  const errors: unknown[] = [];
  const url = await serveEndpoints(
    [
      {
        path: '/throws',
        handler: () => {
          throw new Error('sync boom');
        },
      },
      { path: '/rejects', handler: () => Promise.reject(new Error('async boom')) },
      { path: '/ok', handler: () => ({ status: 200, body: 'ok' }) },
    ],
    (e) => errors.push((e as Error).message),
  );
  expect((await fetch(`${url}/throws`)).status).toBe(500);
  expect((await fetch(`${url}/rejects`)).status).toBe(500);
  expect((await fetch(`${url}/ok`)).status).toBe(200);
  expect(errors).toEqual(['sync boom', 'async boom']);
});
