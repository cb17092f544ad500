import { z } from 'zod';
import { durationInputSchema, functionSchema, methodsSchema, parseOptions } from '@bulwark/core/internal';
import {
  problemReply,
  type Endpoint,
  type Guard,
  type NextOutcome,
  type Outcome,
  type RequestView,
  type RespondOutcome,
  type ResponseTransform,
  type UrlRewrite,
} from '@bulwark/http';
import {
  dateSchema,
  deprecationHeaders,
  goneOutcome,
  headersOrNone,
  type DeprecationInfo,
} from './deprecation-headers.js';
import { headerVersion, uriVersion, type VersionExtractor } from './extractors.js';
import { compareVersions, parseVersion, type ParsedVersion } from './version.js';
import type { VersionChange } from './version-change.js';

const versionText = z.string().refine((v) => parseVersion(v) !== undefined, {
  message: 'not a version: use numbers (1, 1.2, v2) or a date (2024-09-30)',
});

const versionSchema = z
  .object({
    version: versionText,
    deprecatedAt: dateSchema.optional(),
    sunsetAt: dateSchema.optional(),
    /** A page about this version's deprecation (`Link: rel="deprecation"`). */
    deprecationLink: z.url().optional(),
    /** A page about the retirement policy (`Link: rel="sunset"`). */
    sunsetLink: z.url().optional(),
  })
  .strict();

const extractorSchema = methodsSchema<VersionExtractor>(
  ['extract'],
  'expected a version extractor (uriVersion(), headerVersion(), …)',
);

const changeSchema = z
  .object({
    version: versionText,
    description: z.string().min(1),
    request: functionSchema<NonNullable<VersionChange['request']>>().optional(),
    response: functionSchema<NonNullable<VersionChange['response']>>().optional(),
  })
  .strict();

const optionsSchema = z
  .object({
    versions: z.array(versionSchema).min(1),
    /** Where requests name their version, tried in order. */
    extract: z
      .array(extractorSchema)
      .min(1)
      .default(() => [uriVersion(), headerVersion()]),
    /**
     * The version of a request that names none: a version, `latest` or `oldest`. Unset: such a request is refused
     * (400), as an unsupported one is: an API never guesses.
     */
    defaultVersion: z.string().optional(),
    /** Status for an unsupported version; by default the extractor's (404 path, 406 media type, 400 otherwise). */
    unsupportedStatus: z.union([z.literal(400), z.literal(404), z.literal(406)]).optional(),
    /** After `sunsetAt`: answer 410 Gone (default), or redirect (308) to this URL. */
    sunsetRedirect: z.url().optional(),
    /** Shortest time a version must stay served between its deprecation and its sunset. `0` to allow any. */
    minimumSupport: durationInputSchema.pipe(z.number().min(0)).default(365 * 24 * 3_600_000),
    /** Version changes: older callers' requests are translated up, responses down. */
    changes: z.array(changeSchema).default([]),
    /** Wall-clock time in epoch ms, for sunsets. */
    now: functionSchema<() => number>().default(() => Date.now),
    /** Request property holding the resolved version: `req.apiVersion`, `request.apiVersion`, `ctx.state.apiVersion`. */
    requestPropertyName: z.string().min(1).default('apiVersion'),
  })
  .strict()
  .superRefine((o, ctx) => {
    const parsed = o.versions.map((v) => parseVersion(v.version));
    if (parsed.some((p) => p === undefined)) return;
    const kinds = new Set(parsed.map((p) => p!.kind));
    if (kinds.size > 1) {
      ctx.addIssue({ code: 'custom', path: ['versions'], message: 'mixes number and date versions: use one kind' });
    }
    const keys = new Set<string>();
    o.versions.forEach((v, i) => {
      const key = parsed[i]!.key;
      if (keys.has(key))
        ctx.addIssue({ code: 'custom', path: ['versions', i, 'version'], message: `${v.version} is listed twice` });
      keys.add(key);
      if (v.deprecatedAt !== undefined && v.sunsetAt !== undefined) {
        if (v.sunsetAt < v.deprecatedAt) {
          ctx.addIssue({
            code: 'custom',
            path: ['versions', i, 'sunsetAt'],
            message: 'is earlier than deprecatedAt (RFC 9745: a sunset must not precede its deprecation)',
          });
        } else if (v.sunsetAt - v.deprecatedAt < o.minimumSupport) {
          const days = Math.round(o.minimumSupport / 86_400_000);
          ctx.addIssue({
            code: 'custom',
            path: ['versions', i, 'sunsetAt'],
            message: `leaves less than the minimum support of ${days} days after deprecatedAt (minimumSupport)`,
          });
        }
      }
      if (v.sunsetAt !== undefined && v.deprecatedAt === undefined) {
        ctx.addIssue({ code: 'custom', path: ['versions', i, 'deprecatedAt'], message: 'needed with sunsetAt' });
      }
    });
    if (o.defaultVersion !== undefined && !['latest', 'oldest'].includes(o.defaultVersion)) {
      const d = parseVersion(o.defaultVersion);
      if (!d || !keys.has(d.key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['defaultVersion'],
          message: `${o.defaultVersion} is not one of the versions`,
        });
      }
    }
    o.changes.forEach((c, i) => {
      const p = parseVersion(c.version);
      if (p && !keys.has(p.key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['changes', i, 'version'],
          message: `${c.version} is not one of the versions`,
        });
      }
    });
  });

/** Options of {@link createVersioning}. */
export type VersioningOptions = z.input<typeof optionsSchema> & {
  extract?: VersionExtractor[];
  changes?: VersionChange[];
};

/** One entry of the deprecations registry. */
export interface DeprecationEntry {
  readonly version: string;
  readonly status: 'deprecated' | 'sunset';
  /** ISO dates. */
  readonly deprecatedAt: string;
  readonly sunsetAt?: string;
  readonly deprecationLink?: string;
  readonly sunsetLink?: string;
  /** Changes older callers of this version are translated through. */
  readonly changes: readonly string[];
}

interface VersionEntry extends DeprecationInfo {
  readonly version: string;
  readonly parsed: ParsedVersion;
  /** The outcome for a request on this version without transforms: built once, shared by every request. */
  readonly outcome: NextOutcome;
  readonly gone: RespondOutcome;
  readonly requestChanges: readonly NonNullable<VersionChange['request']>[];
  readonly transform: ResponseTransform | undefined;
  readonly changes: readonly VersionChange[];
}

/**
 * API versioning: which version a request asks for, whether it is supported, deprecated or retired, and how to
 * translate it to and from the newest version. One neutral guard (`versioning.guard`) and one URL rewrite
 * (`versioning.rewrite`, for URI versions) serve every framework through `@bulwark/http`.
 *
 * @example
 * ```ts
 * const versioning = createVersioning({
 *   versions: [
 *     { version: '1', deprecatedAt: '2026-01-01', sunsetAt: '2027-01-01', deprecationLink: 'https://api.example.com/v1-deprecation' },
 *     { version: '2' },
 *   ],
 *   extract: [uriVersion(), headerVersion('x-api-version')],
 *   defaultVersion: 'latest',
 * });
 * app.use(apiVersioning(versioning)); // @bulwark/api-versioning/express
 * ```
 */
export class Versioning {
  /** The supported versions, oldest first, as written. */
  readonly versions: readonly string[];
  /** The newest version. */
  readonly latest: string;
  /** The neutral guard: refuses, retires or admits (with headers, state and transforms) each request. */
  readonly guard: Guard;
  /** The URL rewrite of the URI extractor (if any): `/v2/users` → `/users`. */
  readonly rewrite: UrlRewrite | undefined;
  readonly #o: z.output<typeof optionsSchema>;
  /**
   * Versions by key (`2`, `2024-09-30`) and as configured (`v2.0`): a request naming one exactly needs no parsing.
   * No configured text is another version's key (the two would share their key, which the options refuse).
   */
  readonly #byText = new Map<string, VersionEntry>();
  readonly #entries: VersionEntry[];
  /** What a request naming no version gets. */
  readonly #default: VersionEntry | undefined;

  constructor(options: VersioningOptions) {
    const o = parseOptions(optionsSchema, options, 'createVersioning()');
    this.#o = o;
    const parsedChanges = o.changes
      .map((c) => ({ change: c, parsed: parseVersion(c.version)! }))
      .sort((a, b) => compareVersions(a.parsed, b.parsed));
    const vary = [...new Set(o.extract.flatMap((e) => e.vary ?? []))].join(', ');
    const sorted = o.versions
      .map((v) => ({ ...v, parsed: parseVersion(v.version)! }))
      .sort((a, b) => compareVersions(a.parsed, b.parsed));
    this.versions = sorted.map((v) => v.version);
    this.latest = this.versions.at(-1)!;
    this.#entries = sorted.map((v) => {
      // Changes newer than this version: requests go up through them oldest first, responses down newest first.
      const newer = parsedChanges.filter((c) => compareVersions(c.parsed, v.parsed) > 0).map((c) => c.change);
      const responses = newer.flatMap((c) => (c.response ? [c.response] : [])).reverse();
      const headers = { ...deprecationHeaders(v), ...(vary ? { vary } : {}) };
      const requestChanges = newer.flatMap((c) => (c.request ? [c.request] : []));
      const transform: ResponseTransform | undefined =
        responses.length === 0
          ? undefined
          : (body, status, h) => responses.reduce((acc, down) => down(acc, status, h), body);
      const entry: VersionEntry = {
        ...v,
        changes: newer,
        requestChanges,
        transform,
        // Shared by every request on this version; response-only changes ride in it, so they cost no allocation.
        outcome: Object.freeze({
          kind: 'next' as const,
          headers: headersOrNone(headers),
          state: Object.freeze({ [o.requestPropertyName]: v.version }),
          ...(transform !== undefined && requestChanges.length === 0 ? { transformResponse: transform } : {}),
        }),
        gone: goneOutcome(headers, `API version ${v.version} was retired`, o.sunsetRedirect, {
          version: v.version,
          latest: this.latest,
        }),
      };
      return entry;
    });
    for (const e of this.#entries) this.#byText.set(e.parsed.key, e).set(e.version, e);
    const d = o.defaultVersion;
    this.#default =
      d === undefined
        ? undefined
        : d === 'latest'
          ? this.#entries.at(-1)
          : d === 'oldest'
            ? this.#entries[0]
            : this.#byText.get(parseVersion(d)!.key);
    const rewriters = o.extract.filter((e) => e.rewrite !== undefined);
    const first = rewriters[0]?.rewrite;
    this.rewrite =
      first === undefined
        ? undefined
        : Object.assign((req: RequestView) => first.call(rewriters[0], req), { applies: first.applies });
    const needs = [
      ...(parsedChanges.some((c) => c.change.request) ? (['body'] as const) : []),
      ...(parsedChanges.some((c) => c.change.response) ? (['response'] as const) : []),
    ];
    this.guard = Object.assign(this.#makeGuard(), {
      stateKeys: [o.requestPropertyName],
      ...(needs.length > 0 ? { needs } : {}),
    });
  }

  /** The version a request resolves to, or `undefined` when it names an unsupported one or none (and no default). */
  resolve(req: RequestView): string | undefined {
    const found = this.#find(req);
    return found !== null && 'parsed' in found ? found.version : undefined;
  }

  /** Every version with a deprecation, oldest first: what the deprecations endpoint serves. */
  deprecations(): DeprecationEntry[] {
    const now = this.#o.now();
    return this.#entries
      .filter((e) => e.deprecatedAt !== undefined)
      .map((e) => ({
        version: e.version,
        status: e.sunsetAt !== undefined && now >= e.sunsetAt ? ('sunset' as const) : ('deprecated' as const),
        deprecatedAt: new Date(e.deprecatedAt!).toISOString(),
        ...(e.sunsetAt !== undefined ? { sunsetAt: new Date(e.sunsetAt).toISOString() } : {}),
        ...(e.deprecationLink !== undefined ? { deprecationLink: e.deprecationLink } : {}),
        ...(e.sunsetLink !== undefined ? { sunsetLink: e.sunsetLink } : {}),
        changes: e.changes.map((c) => `${c.version}: ${c.description}`),
      }));
  }

  /**
   * A GET endpoint serving {@link deprecations} as JSON, with the supported versions and the latest: mount it with
   * `toExpressEndpoints` / `toFastifyEndpoints` / `toKoaEndpoints`.
   *
   * @example
   * ```ts
   * app.use(toExpressEndpoints([versioning.deprecationsEndpoint('/api/deprecations')]));
   * ```
   */
  deprecationsEndpoint(path = '/deprecations'): Endpoint {
    return {
      path,
      handler: () => ({
        status: 200,
        headers: { 'cache-control': 'no-cache' },
        body: { latest: this.latest, versions: this.versions, deprecations: this.deprecations() },
      }),
    };
  }

  /** The entry a request asks for; an extractor when it names an unsupported version; `null` when it names none. */
  #find(req: RequestView): VersionEntry | VersionExtractor | null {
    const extractors = this.#o.extract;
    for (let i = 0; i < extractors.length; i++) {
      const extractor = extractors[i]!;
      const text = extractor.extract(req);
      if (text === undefined) continue;
      const exact = this.#byText.get(text);
      if (exact !== undefined) return exact;
      const parsed = parseVersion(text);
      return (parsed && this.#byText.get(parsed.key)) || extractor;
    }
    return this.#default ?? null;
  }

  #makeGuard(): Guard {
    const now = this.#o.now;
    const supported = this.versions;
    const unsupported = (extractor: VersionExtractor | null, req: RequestView): RespondOutcome => {
      const status = extractor === null ? 400 : (this.#o.unsupportedStatus ?? extractor.unsupportedStatus);
      const requested = extractor?.extract(req);
      const vary = this.#entries[0]!.outcome.headers?.vary;
      return {
        kind: 'respond',
        ...problemReply(
          {
            title: extractor === null ? 'API Version Required' : 'Unsupported API Version',
            status,
            detail:
              extractor === null
                ? `name a version (${this.#o.extract.map((e) => e.name).join(', ')}); supported: ${supported.join(', ')}`
                : `version ${requested} is not supported; supported: ${supported.join(', ')}`,
            ...(requested !== undefined ? { requested } : {}),
            supported,
          },
          vary === undefined ? {} : { headers: { vary } },
        ),
      };
    };
    return (req): Outcome => {
      const found = this.#find(req);
      if (found === null || !('parsed' in found)) return unsupported(found, req);
      if (found.sunsetAt !== undefined && now() >= found.sunsetAt) return found.gone;
      if (found.requestChanges.length === 0) return found.outcome;
      return this.#translated(found, req);
    };
  }

  /** A request on a version older than some changes: its body and query go up, the response comes back down. */
  #translated(entry: VersionEntry, req: RequestView): NextOutcome {
    let body = req.body;
    let query: Readonly<Record<string, unknown>> = req.query;
    let replacedBody = false;
    let replacedQuery = false;
    for (const up of entry.requestChanges) {
      const next = up({ body, query });
      if (next.body !== undefined) {
        body = next.body;
        replacedBody = true;
      }
      if (next.query !== undefined) {
        query = next.query;
        replacedQuery = true;
      }
    }
    return {
      ...entry.outcome,
      ...(replacedBody ? { body } : {}),
      ...(replacedQuery ? { query } : {}),
      ...(entry.transform ? { transformResponse: entry.transform } : {}),
    };
  }
}

/**
 * Creates {@link Versioning}.
 *
 * @example
 * ```ts
 * const versioning = createVersioning({ versions: [{ version: '2024-06-01' }, { version: '2024-09-30' }], extract: [headerVersion('api-version')], defaultVersion: 'latest' });
 * ```
 */
export const createVersioning = (options: VersioningOptions): Versioning => new Versioning(options);
