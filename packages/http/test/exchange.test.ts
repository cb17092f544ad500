import { afterEach, describe, expect, it } from 'vitest';
import type { Guard, NextOutcome, RequestView } from '@bulwark/http';
import { toFastify } from '@bulwark/http/fastify';
import { frameworks, type TestServer } from '@bulwark/test-servers';
import { serveExchange, type ExchangeOptions } from '@bulwark/test-servers/exchange';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const start = async (framework: (typeof frameworks)[number], options: ExchangeOptions) =>
  (server = await serveExchange(framework, options));

/** A guard that records what it saw of each request and continues with `outcome`. */
function observer(outcome: Omit<NextOutcome, 'kind'> = {}, needs?: Guard['needs']) {
  const seen: { path: string; url: string; originalUrl: string; query: unknown; params: unknown; body: unknown }[] = [];
  const guard = Object.assign(
    (req: RequestView): NextOutcome => {
      seen.push({
        path: req.path,
        url: req.url,
        originalUrl: req.originalUrl,
        query: { ...req.query },
        params: req.params === undefined ? undefined : { ...req.params },
        body: req.body,
      });
      return { kind: 'next', ...outcome };
    },
    { needs },
  );
  return { guard, seen };
}

const postJson = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe.each(frameworks)('exchange contract on %s', (framework) => {
  it('reads query (repeated keys as arrays), route params and the parsed body', async () => {
    const { guard, seen } = observer({}, ['body']);
    const s = await start(framework, { guards: [guard] });
    const res = await postJson(`${s.url}/items/7?tag=a&tag=b&q=x%20y`, { name: 'widget' });
    expect(res.status).toBe(200);
    expect(seen).toEqual([
      {
        path: '/items/7',
        url: '/items/7?tag=a&tag=b&q=x%20y',
        originalUrl: '/items/7?tag=a&tag=b&q=x%20y',
        query: { tag: ['a', 'b'], q: 'x y' },
        params: { id: '7' },
        body: { name: 'widget' },
      },
    ]);
  });

  it('the route sees the body, query and params a guard replaced', async () => {
    const { guard } = observer({ body: { name: 'clean' }, query: { page: 2 }, params: { id: '42' } }, ['body']);
    const s = await start(framework, { guards: [guard] });
    const res = await postJson(`${s.url}/items/7?page=abc`, { name: '<script>' });
    expect(await res.json()).toEqual({
      body: { name: 'clean' },
      query: { page: 2 },
      params: { id: '42' },
      originalUrl: '/items/7?page=abc',
    });
  });

  it('two transforms apply in mount order, exactly once, and after still runs once', async () => {
    const afters: number[] = [];
    const mark = (name: string) => (body: unknown) => ({
      ...(body as object),
      order: [...((body as { order?: string[] }).order ?? []), name],
    });
    const a = observer({ transformResponse: mark('A'), after: (status) => afters.push(status) }, ['response']);
    const b = observer({ transformResponse: mark('B') }, ['response']);
    const s = await start(framework, { guards: [a.guard, b.guard] });
    const res = await fetch(`${s.url}/data`);
    expect(await res.json()).toEqual({ value: 1, order: ['A', 'B'] });
    await expect.poll(() => afters).toEqual([200]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(afters).toEqual([200]);
  });

  it('a transform can set response headers; it is not applied to a thrown error, a stream or text', async () => {
    const transformed: unknown[] = [];
    const { guard } = observer(
      {
        transformResponse: (body, status, headers) => {
          transformed.push(body);
          headers.set('x-transformed', 'yes');
          return { wrapped: body, status };
        },
      },
      ['response'],
    );
    const s = await start(framework, { guards: [guard] });
    const data = await fetch(`${s.url}/data`);
    expect(data.headers.get('x-transformed')).toBe('yes');
    expect(await data.json()).toEqual({ wrapped: { value: 1 }, status: 200 });
    const boom = await fetch(`${s.url}/boom`);
    expect([boom.status, await boom.json()]).toEqual([500, { handled: 'boom' }]);
    const stream = await fetch(`${s.url}/stream`);
    expect(await stream.text()).toBe('{"streamed":true}');
    expect(await (await fetch(`${s.url}/text`)).text()).toBe('plain');
    expect(transformed).toEqual([{ value: 1 }]);
  });

  it('a rewritten URL reaches the right route; the original stays readable', async () => {
    const { guard, seen } = observer();
    const s = await start(framework, {
      guards: [guard],
      rewrite: (req) => (req.path.startsWith('/v2/') ? req.url.slice(3) : undefined),
    });
    const res = await fetch(`${s.url}/v2/items/9?x=1`);
    expect(await res.json()).toMatchObject({ params: { id: '9' }, query: { x: '1' }, originalUrl: '/v2/items/9?x=1' });
    expect(seen[0]).toMatchObject({ path: '/items/9', url: '/items/9?x=1', originalUrl: '/v2/items/9?x=1' });
    expect((await fetch(`${s.url}/items/9`)).status).toBe(200); // unrewritten URLs still route
  });

  it("a rewrite's applies() skips it for URLs it cannot change, and still lets it run for the others", async () => {
    const called: string[] = [];
    const rewrite = Object.assign(
      (req: RequestView) => {
        called.push(req.url);
        return req.path.startsWith('/v2/') ? req.url.slice(3) : undefined;
      },
      { applies: (url: string) => url.startsWith('/v2/') },
    );
    const s = await start(framework, { rewrite });
    expect((await fetch(`${s.url}/items/1`)).status).toBe(200);
    const res = await fetch(`${s.url}/v2/items/2`);
    expect(await res.json()).toMatchObject({ params: { id: '2' } });
    expect(called).toEqual(['/v2/items/2']);
  });

  it('bad input: a malformed query, a body over the limit, invalid JSON: the framework answers, nothing crashes', async () => {
    const { guard, seen } = observer({}, ['body']);
    const s = await start(framework, { guards: [guard], bodyLimit: 1024 * 1024 });
    const odd = await fetch(`${s.url}/items/1?a=%E0%A4%A&b=%&__proto__=x`);
    expect(odd.status).toBe(200);
    const query = seen[0]!.query as Record<string, unknown>;
    expect(query.b).toBe('%'); // a malformed escape is kept as written
    expect(typeof query.a).toBe('string');
    expect(Object.keys(query)).toEqual(['a', 'b', '__proto__']); // a key like any other, no prototype pollution
    const big = await postJson(`${s.url}/items/1`, { blob: 'x'.repeat(10 * 1024 * 1024) });
    expect(big.status).toBe(413);
    const broken = await fetch(`${s.url}/items/1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"unterminated": ',
    });
    expect(broken.status).toBe(400);
    expect(seen).toHaveLength(1); // the guard never saw the refused bodies
    expect((await fetch(`${s.url}/data`)).status).toBe(200);
  });
});

describe('a guard that needs the body where none is parsed', () => {
  it.each(['express5', 'express4', 'koa3', 'koa2'] as const)(
    '%s: a request with a body fails with a message naming the parser; one without passes',
    async (framework) => {
      const { guard } = observer({}, ['body']);
      const s = await start(framework, { guards: [guard], bodyParser: false });
      const res = await postJson(`${s.url}/items/1`, { a: 1 });
      expect(res.status).toBe(500);
      expect(((await res.json()) as { handled: string }).handled).toMatch(
        /reads the request body, but no body parser ran before it: mount (express\.json\(\)|@koa\/bodyparser)/,
      );
      expect((await fetch(`${s.url}/items/1`)).status).toBe(200);
    },
  );

  it('fastify5: the onRequest hook is refused at registration, and preValidation is the default', async () => {
    const { guard, seen } = observer({}, ['body']);
    expect(() => toFastify(guard, { name: 'needs-body', hook: 'onRequest' })).toThrow(
      /reads the request body, which Fastify parses after onRequest/,
    );
    const s = await start('fastify5', { guards: [guard] });
    await postJson(`${s.url}/items/1`, { a: 1 });
    expect(seen[0]!.body).toEqual({ a: 1 });
  });

  it('fastify5: a transform from a guard that did not declare it is a clear error', async () => {
    const { guard } = observer({ transformResponse: (b) => b });
    const s = await start('fastify5', { guards: [guard] });
    const res = await fetch(`${s.url}/data`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { handled: string }).handled).toMatch(/declare needs: \['response'\]/);
  });
});
