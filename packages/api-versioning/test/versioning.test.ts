import { parseItem } from 'structured-headers';
import fc from 'fast-check';
import { isBulwarkConfigError } from '@bulwark/core';
import type { NextOutcome, Outcome, RequestView, RespondOutcome } from '@bulwark/http';
import { describe, expect, it } from 'vitest';
import {
  createVersioning,
  customVersion,
  headerVersion,
  mediaTypeVersion,
  queryVersion,
  uriVersion,
  versionChange,
  type VersionChange,
} from '../src/index.js';

/** A request as a guard sees it, for unit tests (the adapter tests use real servers). */
function view(url: string, headers: Record<string, string> = {}, body?: unknown): RequestView {
  const u = new URL(url, 'http://x');
  const query: Record<string, string> = {};
  u.searchParams.forEach((v, k) => (query[k] = v));
  return {
    state: () => undefined,
    method: 'GET',
    path: u.pathname,
    url,
    originalUrl: url,
    query,
    params: undefined,
    body,
    header: (name) => headers[name.toLowerCase()],
    ip: '127.0.0.1',
    frameworkIp: '127.0.0.1',
    raw: undefined,
    route: undefined,
  };
}
const next = (o: Outcome | Promise<Outcome>) => {
  expect((o as Outcome).kind).toBe('next');
  return o as NextOutcome;
};
const respond = (o: Outcome | Promise<Outcome>) => {
  expect((o as Outcome).kind).toBe('respond');
  return o as RespondOutcome;
};
const day = (iso: string) => Date.parse(iso);

describe('negotiation', () => {
  const versioning = createVersioning({
    versions: [{ version: '1' }, { version: '2' }, { version: '10' }],
    extract: [
      uriVersion(),
      headerVersion(),
      mediaTypeVersion({ type: 'application/vnd.acme+json' }),
      queryVersion(),
      customVersion('tenant', (req) => (req.header('x-tenant') === 'old' ? '1' : undefined)),
    ],
    defaultVersion: 'latest',
  });

  it('reads the version from the path, a header, the media type, the query or custom code, in that order', () => {
    expect(versioning.resolve(view('/v2/users'))).toBe('2');
    expect(versioning.resolve(view('/users', { 'x-api-version': '1' }))).toBe('1');
    expect(versioning.resolve(view('/users', { accept: 'application/vnd.acme+json; version=2' }))).toBe('2');
    expect(versioning.resolve(view('/users', { accept: 'application/json; version=2' }))).toBe('10');
    expect(versioning.resolve(view('/users?api-version=1'))).toBe('1');
    expect(versioning.resolve(view('/users', { 'x-tenant': 'old' }))).toBe('1');
    expect(versioning.resolve(view('/v10/users', { 'x-api-version': '1' }))).toBe('10');
    expect(versioning.resolve(view('/users'))).toBe('10'); // latest is 10, not 2 (as text)
    expect(versioning.latest).toBe('10');
  });

  it('any spelling of a version means it; a request naming none gets the configured default, or a 400', () => {
    const spelled = createVersioning({
      versions: [{ version: '1.0' }, { version: '2' }],
      extract: [headerVersion()],
      defaultVersion: 'oldest',
    });
    const dated = createVersioning({
      versions: [{ version: '2024-06-01' }, { version: '2024-09-30.acacia' }],
      extract: [headerVersion()],
    });
    expect(dated.resolve(view('/', { 'x-api-version': '2024-09-30.acacia' }))).toBe('2024-09-30.acacia');
    expect(dated.resolve(view('/', { 'x-api-version': '2024-09-30' }))).toBe('2024-09-30.acacia');
    for (const [asked, resolved] of [
      ['1.0', '1.0'],
      ['1', '1.0'],
      ['v1', '1.0'],
      ['1.0.0', '1.0'],
      ['2', '2'],
      ['V2.0', '2'],
      ['3', undefined],
    ] as const) {
      expect(spelled.resolve(view('/', { 'x-api-version': asked }))).toBe(resolved);
    }
    expect(spelled.resolve(view('/'))).toBe('1.0');
    const named = createVersioning({ versions: [{ version: '1' }, { version: '2' }], defaultVersion: 'v1' });
    expect(named.resolve(view('/'))).toBe('1');
    const none = createVersioning({ versions: [{ version: '1' }, { version: '2' }] });
    expect(none.resolve(view('/'))).toBeUndefined();
    expect(respond(none.guard(view('/'))).status).toBe(400);
  });

  it('rewrites a URI version away so routes are written once', () => {
    expect(versioning.rewrite!(view('/v2/users/7?x=1'))).toBe('/users/7?x=1');
    expect(versioning.rewrite!(view('/v2'))).toBe('/');
    expect(versioning.rewrite!(view('/v2?x=1'))).toBe('/?x=1');
    expect(versioning.rewrite!(view('/video/1'))).toBeUndefined();
  });

  it('refuses an unsupported version with the status of its carrier, naming the supported ones, and Vary', () => {
    const uri = respond(versioning.guard(view('/v3/users')));
    expect(uri.status).toBe(404);
    expect(uri.body).toMatchObject({ title: 'Unsupported API Version', requested: '3', supported: ['1', '2', '10'] });
    expect(uri.headers).toMatchObject({ 'content-type': 'application/problem+json', vary: 'x-api-version, accept' });
    expect(respond(versioning.guard(view('/x', { 'x-api-version': 'banana' }))).status).toBe(400);
    expect(respond(versioning.guard(view('/x', { accept: 'application/vnd.acme+json;version=9' }))).status).toBe(406);
  });

  it('refuses a request naming no version when there is no default, never guessing', () => {
    const strict = createVersioning({ versions: [{ version: '1' }], extract: [headerVersion()] });
    const r = respond(strict.guard(view('/x')));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ title: 'API Version Required' });
    expect(strict.resolve(view('/x'))).toBeUndefined();
  });

  it('admits a current version with a shared outcome: no allocation per request', () => {
    const a = next(versioning.guard(view('/v2/a')));
    const b = next(versioning.guard(view('/v2/b')));
    expect(a).toBe(b);
    expect(a.state).toEqual({ apiVersion: '2' });
    expect(a.headers).toEqual({ vary: 'x-api-version, accept' });
  });
});

describe('deprecation and sunset', () => {
  const at = { now: day('2026-06-01T00:00:00Z') };
  const versioning = createVersioning({
    versions: [
      {
        version: '1',
        deprecatedAt: '2023-06-30T23:59:59Z',
        sunsetAt: '2026-01-01T00:00:00Z',
        deprecationLink: 'https://developer.example.com/deprecation',
      },
      {
        version: '2',
        deprecatedAt: '2026-01-01T00:00:00Z',
        sunsetAt: '2027-01-01T00:00:00Z',
        sunsetLink: 'https://developer.example.com/sunset',
      },
      { version: '3' },
    ],
    extract: [uriVersion()],
    now: () => at.now,
  });

  it('announces RFC 9745 Deprecation (a Structured Fields date), RFC 8594 Sunset and Link relations', () => {
    const h = next(versioning.guard(view('/v2/x'))).headers as Record<string, string>;
    const [value] = parseItem(h.deprecation!);
    expect(value).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(h.sunset).toBe('Fri, 01 Jan 2027 00:00:00 GMT');
    expect(new Date(h.sunset!).getTime()).toBe(day('2027-01-01T00:00:00Z'));
    expect(h.link).toBe('<https://developer.example.com/sunset>; rel="sunset"; type="text/html"');
    expect(next(versioning.guard(view('/v3/x'))).headers).toBeUndefined();
  });

  it('answers 410 Gone after the sunset, with the headers still there', () => {
    const gone = respond(versioning.guard(view('/v1/x')));
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ title: 'Gone', version: '1', latest: '3' });
    expect((gone.headers as Record<string, string>).deprecation).toBe('@1688169599');
    at.now = day('2027-01-01T00:00:00Z');
    expect(respond(versioning.guard(view('/v2/x'))).status).toBe(410);
    at.now = day('2026-06-01T00:00:00Z');
  });

  it('lists the deprecations, and serves them', async () => {
    expect(versioning.deprecations()).toEqual([
      expect.objectContaining({ version: '1', status: 'sunset', deprecatedAt: '2023-06-30T23:59:59.000Z' }),
      expect.objectContaining({ version: '2', status: 'deprecated', sunsetAt: '2027-01-01T00:00:00.000Z' }),
    ]);
    const reply = await versioning.deprecationsEndpoint().handler(view('/deprecations'));
    expect(reply.body).toMatchObject({ latest: '3', versions: ['1', '2', '3'] });
  });

  it('redirects after the sunset when told to', () => {
    const v = createVersioning({
      versions: [{ version: '1', deprecatedAt: 0, sunsetAt: day('2020-01-01') }, { version: '2' }],
      extract: [uriVersion()],
      sunsetRedirect: 'https://api.example.com/v2/',
    });
    const r = respond(v.guard(view('/v1/x')));
    expect(r.status).toBe(308);
    expect(r.headers).toMatchObject({ location: 'https://api.example.com/v2/' });
  });
});

describe('version changes', () => {
  it('translates requests up oldest first and responses down newest first', () => {
    const seen: string[] = [];
    const change = (version: string): VersionChange =>
      versionChange({
        version,
        description: `change ${version}`,
        request: ({ body }) => (seen.push(`up ${version}`), { body: { ...(body as object), [`v${version}`]: true } }),
        response: (body) => (seen.push(`down ${version}`), body),
      });
    const v = createVersioning({
      versions: ['1', '2', '3', '4'].map((version) => ({ version })),
      extract: [headerVersion()],
      changes: [change('4'), change('2'), change('3')],
    });
    const o = next(v.guard(view('/x', { 'x-api-version': '1' }, { a: 1 })));
    expect(o.body).toEqual({ a: 1, v2: true, v3: true, v4: true });
    o.transformResponse!({}, 200, { get: () => undefined, set: () => {} });
    expect(seen).toEqual(['up 2', 'up 3', 'up 4', 'down 4', 'down 3', 'down 2']);
    expect(v.guard.needs).toEqual(['body', 'response']);
    expect(next(v.guard(view('/x', { 'x-api-version': '4' }))).transformResponse).toBeUndefined();
  });

  it('a response-only change rides in the shared outcome: no allocation per request', () => {
    const v = createVersioning({
      versions: [{ version: '1' }, { version: '2' }],
      extract: [headerVersion()],
      changes: [versionChange({ version: '2', description: 'x', response: (b) => ({ old: b }) })],
    });
    const a = next(v.guard(view('/a', { 'x-api-version': '1' })));
    expect(next(v.guard(view('/b', { 'x-api-version': '1' })))).toBe(a);
    expect(a.transformResponse!(1, 200, { get: () => undefined, set: () => {} })).toEqual({ old: 1 });
    expect(v.guard.needs).toEqual(['response']);
  });

  it('up then down is the identity for reversible changes, over many versions', () => {
    // Version k renames field f(k-1) to f(k) in requests and back in responses.
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.jsonValue(),
        (count, from, payload) => {
          const requested = Math.min(from, count);
          const changes = Array.from({ length: count - 1 }, (_, i) => {
            const k = i + 2;
            const rename = (o: Record<string, unknown>, a: string, b: string) => {
              const { [a]: value, ...rest } = o;
              return { ...rest, [b]: value };
            };
            return versionChange({
              version: String(k),
              description: `f${k - 1} → f${k}`,
              request: ({ body }) => ({ body: rename(body as Record<string, unknown>, `f${k - 1}`, `f${k}`) }),
              response: (body) => rename(body as Record<string, unknown>, `f${k}`, `f${k - 1}`),
            });
          });
          const v = createVersioning({
            versions: Array.from({ length: count }, (_, i) => ({ version: String(i + 1) })),
            extract: [headerVersion()],
            changes: fc.sample(fc.shuffledSubarray(changes, { minLength: changes.length }), 1)[0]!,
          });
          const body = { [`f${requested}`]: payload };
          const o = next(v.guard(view('/x', { 'x-api-version': String(requested) }, body)));
          const newest = requested === count ? body : o.body;
          expect(newest).toEqual({ [`f${count}`]: payload });
          const back = o.transformResponse
            ? o.transformResponse(newest, 200, { get: () => undefined, set: () => {} })
            : newest;
          expect(back).toEqual(body);
        },
      ),
    );
  });
});

describe('configuration errors', () => {
  const configError = (options: unknown) => {
    try {
      createVersioning(options as never);
    } catch (e) {
      if (isBulwarkConfigError(e)) return e;
      throw e;
    }
    throw new Error('expected a configuration error');
  };
  it.each([
    [
      { versions: [{ version: '1', deprecatedAt: '2026-01-01', sunsetAt: '2025-01-01' }] },
      'versions.0.sunsetAt',
      'earlier than deprecatedAt',
    ],
    [
      { versions: [{ version: '1', deprecatedAt: '2026-01-01', sunsetAt: '2026-03-01' }] },
      'versions.0.sunsetAt',
      'minimum support of 365 days',
    ],
    [{ versions: [{ version: '1', sunsetAt: '2026-03-01' }] }, 'versions.0.deprecatedAt', 'needed with sunsetAt'],
    [{ versions: [{ version: '1' }, { version: '2024-01-01' }] }, 'versions', 'mixes number and date'],
    [{ versions: [{ version: '1' }, { version: 'v1.0' }] }, 'versions.1.version', 'listed twice'],
    [{ versions: [{ version: 'latest' }] }, 'versions.0.version', 'not a version'],
    [{ versions: [{ version: '1' }], defaultVersion: '2' }, 'defaultVersion', 'not one of the versions'],
    [
      { versions: [{ version: '1' }], changes: [{ version: '3', description: 'x' }] },
      'changes.0.version',
      'not one of the versions',
    ],
    [{ versions: [{ version: '1', deprecatedAt: 'soon' }] }, 'versions.0.deprecatedAt', 'not a date'],
    [{ versions: [] }, 'versions', ''],
  ])('refuses %j', (options, field, message) => {
    const e = configError(options);
    expect(e.issues.map((i) => i.field)).toContain(field);
    expect(e.message).toContain(message);
  });

  it('allows a short support window when told to', () => {
    expect(() =>
      createVersioning({
        versions: [{ version: '1', deprecatedAt: '2026-01-01', sunsetAt: '2026-03-01' }],
        minimumSupport: '30 days',
      }),
    ).not.toThrow();
  });
});
