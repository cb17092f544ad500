import type { RequestView, UrlRewrite } from '@bulwark/http';

/**
 * Where a request names its version. `extract` answers the version text (or `undefined`); `vary` lists the request
 * headers the answer depends on (sent in `Vary`, so caches keep versions apart); a URI extractor also `rewrite`s the
 * URL so the router sees it without the version segment.
 */
export interface VersionExtractor {
  readonly name: string;
  /** The version this request names, as written; `undefined` when it names none here. */
  extract(req: RequestView): string | undefined;
  readonly vary?: readonly string[];
  /** The status for a version this carrier names that is not supported (404 for a path, 406 for a media type). */
  readonly unsupportedStatus: 400 | 404 | 406;
  rewrite?: UrlRewrite;
}

const segmentVersion = /^(?:\d{1,9}(?:\.\d{1,9}){0,2}|\d{4}-\d{2}-\d{2}(?:\.[A-Za-z0-9_-]+)?)$/;

/**
 * The version as the URL's first path segment: `/v2/users` asks for `2`, and is routed as `/users`. Mount the
 * rewrite before the routes (the adapters' `apiVersioning` does on Express and Koa; on Fastify give
 * `versioning.fastifyRewriteUrl` to `fastify({ rewriteUrl })`).
 *
 * @example
 * ```ts
 * createVersioning({ versions: [{ version: '1' }, { version: '2' }], extract: [uriVersion()] });
 * ```
 */
export function uriVersion(options: { prefix?: string } = {}): VersionExtractor {
  const prefix = options.prefix ?? 'v';
  const split = (url: string): { version: string; rest: string } | undefined => {
    if (url.charCodeAt(0) !== 47 /* / */ || !url.startsWith(prefix, 1)) return undefined;
    let end = url.length;
    for (let i = 1 + prefix.length; i < url.length; i++) {
      const c = url.charCodeAt(i);
      if (c === 47 || c === 63 /* ? */ || c === 35 /* # */) {
        end = i;
        break;
      }
    }
    const version = url.slice(1 + prefix.length, end);
    if (!segmentVersion.test(version)) return undefined;
    const rest = url.slice(end);
    return { version, rest: rest === '' || rest.charCodeAt(0) !== 47 ? `/${rest}` : rest };
  };
  return {
    name: 'uri',
    unsupportedStatus: 404,
    extract: (req) => split(req.originalUrl)?.version,
    rewrite: Object.assign((req: RequestView) => split(req.url)?.rest, {
      // Most URLs carry no version prefix: the adapters skip building a view for them.
      applies: (url: string) => url.charCodeAt(0) === 47 && url.startsWith(prefix, 1),
    }),
  };
}

/**
 * The version in a request header, `X-API-Version` unless named.
 *
 * @example
 * ```ts
 * headerVersion('stripe-version');
 * ```
 */
export function headerVersion(name = 'x-api-version'): VersionExtractor {
  const header = name.toLowerCase();
  return {
    name: `header ${header}`,
    unsupportedStatus: 400,
    vary: [header],
    extract: (req) => req.header(header)?.trim() || undefined,
  };
}

/**
 * The version as a media-type parameter of `Accept`: `application/vnd.acme+json; version=2`. With `type`, only
 * that media type's parameter counts.
 *
 * @example
 * ```ts
 * mediaTypeVersion({ type: 'application/vnd.acme+json' });
 * ```
 */
export function mediaTypeVersion(options: { param?: string; type?: string } = {}): VersionExtractor {
  const param = (options.param ?? 'version').toLowerCase();
  const type = options.type?.toLowerCase();
  return {
    name: 'media type',
    unsupportedStatus: 406,
    vary: ['accept'],
    extract: (req) => {
      const accept = req.header('accept');
      if (accept === undefined || !accept.includes('=')) return undefined;
      for (const range of accept.split(',')) {
        const [mediaType, ...params] = range.split(';');
        if (type !== undefined && mediaType!.trim().toLowerCase() !== type) continue;
        for (const p of params) {
          const eq = p.indexOf('=');
          if (eq === -1 || p.slice(0, eq).trim().toLowerCase() !== param) continue;
          const value = p
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1');
          if (value !== '') return value;
        }
      }
      return undefined;
    },
  };
}

/**
 * The version in a query parameter, `api-version` unless named (Azure's convention).
 *
 * @example
 * ```ts
 * queryVersion('v');
 * ```
 */
export function queryVersion(name = 'api-version'): VersionExtractor {
  return {
    name: `query ${name}`,
    unsupportedStatus: 400,
    extract: (req) => {
      const value = req.query[name];
      const text = typeof value === 'string' ? value : value?.[0];
      return text?.trim() || undefined;
    },
  };
}

/**
 * A version found by your own code: a tenant's pinned version, a JWT claim.
 *
 * @example
 * ```ts
 * customVersion('pinned', (req) => tenants.get(req.header('x-tenant') ?? '')?.apiVersion);
 * ```
 */
export function customVersion(name: string, extract: (req: RequestView) => string | undefined): VersionExtractor {
  return { name, unsupportedStatus: 400, extract };
}
