import { z } from 'zod';
import { isBulwarkConfigError, isBulwarkError } from '@bulwark/core';
import { functionSchema, methodsSchema, parseOptions } from '@bulwark/core/internal';
import { NEXT, problemReply, type Guard, type Handler, type Reply, type RequestView } from '@bulwark/http';
import { adminCss, adminHtml, adminIcon, adminJs } from './admin-page.js';
import type { FeatureFlags } from './feature-flags.js';

const optionsSchema = z
  .object({
    flags: methodsSchema<FeatureFlags>(['set', 'remove', 'document'], 'expected FeatureFlags from featureFlags()'),
    /**
     * Decides who may use the admin: anyone it admits can change every flag. Required: the admin refuses to mount
     * without it. Return false to answer 403.
     */
    authorize: functionSchema<(req: RequestView) => boolean | Promise<boolean>>(),
    /** Where the admin answers (page, assets and `/api/flags`); other paths pass through. */
    prefix: z
      .string()
      .regex(/^\/[^?#]*[^/?#]$/, { message: 'must start with / and not end with /' })
      .default('/flags-admin'),
  })
  .strict();

/** Options of the flags admin. */
export type FlagsAdminOptions = Omit<z.input<typeof optionsSchema>, 'flags'>;

const json = (status: number, body: unknown): Reply => ({
  status,
  headers: { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
  body,
});
const problem = (status: number, title: string, detail: string, extra: Record<string, unknown> = {}): Reply =>
  problemReply({ status, title, detail, ...extra }, { headers: { 'x-content-type-options': 'nosniff' } });
// The page runs only its own script and style: no inline code, so this policy holds as written.
const pageCsp =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";
const asset = (type: string, body: string): Reply => ({
  status: 200,
  headers: {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...(type.startsWith('text/html') ? { 'content-security-policy': pageCsp, 'referrer-policy': 'no-referrer' } : {}),
  },
  body,
});

/**
 * The admin as one neutral handler for every path under `prefix`: the page (`<prefix>/`), its script and style,
 * and a JSON API: `GET <prefix>/api/flags` (every flag as written and in force), `GET`/`PUT`/`DELETE
 * <prefix>/api/flags/:key`. Writes go through `flags.set` / `flags.remove`: validated, written to the source,
 * then in force; an invalid definition answers 400 with the issues, a read-only source 409.
 *
 * @example
 * ```ts
 * const admin = flagsAdminHandler(flags, { authorize: (req) => req.header('authorization') === `Bearer ${token}` });
 * ```
 */
export function flagsAdminHandler(flags: FeatureFlags, options: FlagsAdminOptions): Handler {
  return flagsAdmin(flags, options).handler;
}

/** The admin's handler and the prefix it answers under, from options validated once. */
export function flagsAdmin(flags: FeatureFlags, options: FlagsAdminOptions): { handler: Handler; prefix: string } {
  const o = parseOptions(optionsSchema, { ...options, flags }, 'flagsAdmin()');
  const prefix = o.prefix;
  const entry = (key: string) => ({ definition: flags.document().flags?.[key], effective: flags.get(key) });

  const answer = async (req: RequestView, rest: string): Promise<Reply> => {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (rest === '') {
      // Relative links in the page need the trailing slash.
      const path = req.originalUrl.split('?')[0]!;
      return { status: 308, headers: { location: `${path}/`, 'cache-control': 'no-store' } };
    }
    if (method === 'GET' && rest === '/') return asset('text/html; charset=utf-8', adminHtml);
    if (method === 'GET' && rest === '/admin.js') return asset('text/javascript; charset=utf-8', adminJs);
    if (method === 'GET' && rest === '/admin.css') return asset('text/css; charset=utf-8', adminCss);
    if (method === 'GET' && rest === '/favicon.svg') return asset('image/svg+xml', adminIcon);
    if (rest === '/api/flags') {
      if (method !== 'GET') return problem(405, 'Method Not Allowed', 'GET only');
      const keys = new Set([...Object.keys(flags.document().flags ?? {}), ...Object.keys(flags.list())]);
      return json(200, { flags: Object.fromEntries([...keys].sort().map((k) => [k, entry(k)])) });
    }
    if (!rest.startsWith('/api/flags/')) return problem(404, 'Not Found', `no admin resource ${rest}`);
    let key: string;
    try {
      key = decodeURIComponent(rest.slice('/api/flags/'.length));
    } catch {
      return problem(400, 'Bad Request', 'malformed flag key');
    }
    if (key === '' || key.includes('/')) return problem(404, 'Not Found', `no admin resource ${rest}`);
    if (method === 'GET') {
      const found = entry(key);
      return found.definition === undefined && found.effective === undefined
        ? problem(404, 'Not Found', `no flag ${key}`)
        : json(200, found);
    }
    if (method !== 'PUT' && method !== 'DELETE') return problem(405, 'Method Not Allowed', 'GET, PUT or DELETE');
    try {
      if (method === 'PUT') {
        if (!(req.header('content-type') ?? '').startsWith('application/json')) {
          return problem(415, 'Unsupported Media Type', 'send the definition as application/json');
        }
        if (req.body === undefined) {
          return problem(
            500,
            'Body Not Parsed',
            'mount a JSON body parser before the admin (express.json(), @koa/bodyparser)',
          );
        }
        await flags.set(key, req.body as never);
        return json(200, entry(key));
      }
      if (flags.document().flags?.[key] === undefined) return problem(404, 'Not Found', `no flag ${key}`);
      await flags.remove(key);
      return { status: 204, headers: { 'cache-control': 'no-store' } };
    } catch (error) {
      if (isBulwarkConfigError(error)) {
        return problem(400, 'Invalid Flag', error.message, { issues: error.issues });
      }
      if (isBulwarkError(error, 'BULWARK_FLAG_READ_ONLY')) return problem(409, 'Read-Only Source', error.message);
      return problem(500, 'Write Failed', (error as Error).message);
    }
  };

  const handler: Handler = async (req) => {
    const path = req.path;
    const rest = path === prefix ? '' : path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined;
    if (rest === undefined) return problem(404, 'Not Found', `not under ${prefix}`);
    if (!(await o.authorize(req))) return problem(403, 'Forbidden', 'not allowed to administer flags');
    return answer(req, rest);
  };
  return { handler, prefix };
}

/**
 * The admin as a guard: answers requests under `prefix`, lets every other request through. Mount it with your
 * framework's adapter (the `flagsAdmin` exports of `/express` and `/koa` do).
 *
 * @example
 * ```ts
 * app.use(express.json(), toExpress(flagsAdminGuard(flags, { authorize })));
 * ```
 */
export function flagsAdminGuard(flags: FeatureFlags, options: FlagsAdminOptions): Guard {
  const { handler, prefix } = flagsAdmin(flags, options);
  return (req) => {
    const path = req.path;
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return NEXT;
    return Promise.resolve(handler(req)).then((reply) => ({ kind: 'respond' as const, ...reply }));
  };
}
