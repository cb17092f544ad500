import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { frameworks, type TestServer } from '@bulwark/test-servers';
import { serveExchange } from '@bulwark/test-servers/exchange';
import { isBulwarkConfigError } from '@bulwark/core';
import { requestValidator } from '../src/index.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const validator = requestValidator({
  body: z.strictObject({ name: z.string().min(1).max(20), age: z.number().int().min(0).default(0) }),
  query: z.object({ page: z.coerce.number().int().min(1).default(1) }),
  params: z.object({ id: z.string().regex(/^\d+$/) }),
  headers: z.object({ 'x-tenant': z.enum(['a', 'b']) }),
  maxBytes: 200,
  maxDepth: 3,
});

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenant': 'a', ...headers },
    body,
  });

describe.each(frameworks)('validateRequest on %s (real server)', (framework) => {
  it('hands the route the parsed values: defaults and coercions applied', async () => {
    server = await serveExchange(framework, { guards: [validator] });
    const res = await post(`${server.url}/items/42?page=3`, '{"name":"Ada"}');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ body: { name: 'Ada', age: 0 }, query: { page: 3 }, params: { id: '42' } });
  });

  it('refuses bad fields with 400, listing where and what, never the values sent', async () => {
    server = await serveExchange(framework, { guards: [validator] });
    const res = await post(`${server.url}/items/x1?page=0`, '{"name":"","age":1.5,"evil":"<script>steal()</script>"}', {
      'x-tenant': 'zzz-secret',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const text = await res.text();
    expect(text).not.toContain('steal');
    expect(text).not.toContain('zzz-secret');
    const problem = JSON.parse(text) as { status: number; errors: { in: string; field: string }[] };
    expect(problem.status).toBe(400);
    expect(problem.errors.map((e) => `${e.in}:${e.field}`).sort()).toEqual(
      ['body:', 'body:age', 'body:name', 'headers:x-tenant', 'params:id', 'query:page'].sort(),
    );
  });

  it('413 for a body over maxBytes, 415 for a body that is not JSON, 400 for nesting past maxDepth', async () => {
    server = await serveExchange(framework, { guards: [validator] });
    expect((await post(`${server.url}/items/1`, JSON.stringify({ name: 'x'.repeat(300) }))).status).toBe(413);
    const form = await fetch(`${server.url}/items/1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-tenant': 'a' },
      body: 'name=x',
    });
    expect(form.status).toBe(415);
    const deep = await post(`${server.url}/items/1`, '{"name":"x","age":{"a":{"b":{"c":1}}}}');
    expect(deep.status).toBe(400);
    expect(await deep.json()).toMatchObject({ reason: 'maxDepth' });
  });
});

describe('requestValidator options', () => {
  it.each([
    [{}, ''],
    [{ body: { parse: () => 1 } }, 'body'],
    [{ query: z.object({}), maxBytes: 0 }, 'maxBytes'],
    [{ query: z.object({}), unknown: true }, 'unknown'],
  ])('refuses %j naming the field', (options, field) => {
    let error: unknown;
    try {
      requestValidator(options as never);
    } catch (e) {
      error = e;
    }
    expect(isBulwarkConfigError(error)).toBe(true);
    expect((error as { field: string }).field).toBe(field);
  });

  it('declares that it reads the body only when it validates one', () => {
    expect(requestValidator({ body: z.object({}) }).needs).toEqual(['body']);
    expect(requestValidator({ query: z.object({}) }).needs).toBeUndefined();
  });
});
