import { z } from 'zod';
import { functionSchema, isPromiseLike, parseOptions } from '@bulwark/core/internal';
import {
  authorizeEndpoints,
  type Endpoint,
  type Handler,
  type OutcomeHeaders,
  type Reply,
  type RequestView,
} from '@bulwark/http';
import type { ProbeTag } from './check.js';
import type { CheckOutcome } from './check-runner.js';
import type { Health, HealthReport } from './health.js';
import { publicOutput, toHealthDocument, WITHHELD } from './health-document.js';

/** The endpoints `healthEndpoints` serves. */
export type HealthEndpointName = 'health' | ProbeTag;

/** Options for {@link healthEndpoints} (and `healthRoutes()` in the framework entries). */
export interface HealthEndpointsOptions {
  /**
   * Paths, or `false` to leave an endpoint out. Defaults: `/health` (the health+json document), `/livez`,
   * `/readyz`, `/startupz` (Kubernetes style; each also answers `/<probe>/<check>`).
   */
  paths?: Partial<Record<HealthEndpointName, string | false>>;
  /** Show failure reasons (check output, error messages) in bodies. Default `false`: `reason withheld`. */
  exposeDetails?: boolean;
  /**
   * Decides who may read an endpoint (health details can be sensitive); refused requests get 403. Probes from the
   * kubelet carry no credentials, so let `live`/`ready`/`startup` through if Kubernetes probes them.
   */
  authorize?: (req: RequestView, endpoint: HealthEndpointName) => boolean | Promise<boolean>;
}

const pathSchema = z.union([z.string().regex(/^\/\S*$/, { message: 'must start with "/"' }), z.literal(false)]);

const optionsSchema = z
  .object({
    paths: z
      .object({ health: pathSchema, live: pathSchema, ready: pathSchema, startup: pathSchema })
      .partial()
      .strict()
      .default({}),
    exposeDetails: z.boolean().default(false),
    authorize: functionSchema<NonNullable<HealthEndpointsOptions['authorize']>>().optional(),
  })
  .strict();

const defaultPaths: Record<HealthEndpointName, string> = {
  health: '/health',
  live: '/livez',
  ready: '/readyz',
  startup: '/startupz',
};

// Probes must never be answered from a cache: a 304 to a probe reads as a failure.
// Text bodies are sent as text/plain; charset=utf-8 by every adapter.
const TEXT: OutcomeHeaders = Object.freeze({ 'cache-control': 'no-store' });
const HEALTH_JSON: OutcomeHeaders = Object.freeze({
  'content-type': 'application/health+json',
  'cache-control': 'no-store',
});
const OK: Reply = Object.freeze({ status: 200, headers: TEXT, body: 'ok' });

/** The failure status: 503 lets load balancers and kubelets treat it as "not now" rather than a server bug. */
const FAILED = 503;

/** Query parameters of a URL, or `undefined` when it has none (the common probe). */
function queryOf(url: string): URLSearchParams | undefined {
  const q = url.indexOf('?');
  return q === -1 ? undefined : new URLSearchParams(url.slice(q + 1));
}

function checkLine(outcome: CheckOutcome, exposeDetails: boolean): string {
  if (outcome.status === 'pass') return `[+]${outcome.name} ok`;
  if (outcome.status === 'fail' && outcome.critical) {
    return `[-]${outcome.name} failed: ${publicOutput(outcome, exposeDetails) ?? WITHHELD}`;
  }
  const reason = publicOutput(outcome, exposeDetails);
  const state = outcome.status === 'warn' ? 'warn' : 'failed (non-critical)';
  return `[+]${outcome.name} ${state}${reason === undefined ? '' : `: ${reason}`}`;
}

/** The Kubernetes text answer: `ok`, or one line per check when verbose or failing (failure is always verbose). */
function probeReply(
  health: Health,
  report: HealthReport,
  label: string,
  verbose: boolean,
  exposeDetails: boolean,
): Reply {
  const failed = report.status === 'fail';
  if (!failed && !verbose) return OK;
  const lines: string[] = [];
  const byName = new Map(report.results.map((r) => [r.name, r]));
  for (const name of health.checkNames(report.probe)) {
    const outcome = byName.get(name);
    lines.push(outcome === undefined ? `[+]${name} excluded: ok` : checkLine(outcome, exposeDetails));
  }
  if (report.shuttingDown) lines.push('[-]shutdown failed: shutting down');
  if (report.notReady) lines.push(`[-]signal failed: ${health.notReadyReason ?? 'not ready'}`);
  if (report.unknownExcludes.length > 0) {
    const names = report.unknownExcludes.map((n) => JSON.stringify(n)).join(',');
    lines.push(`warn: some health checks cannot be excluded: no matches for ${names}`);
  }
  lines.push(`${label} check ${failed ? 'failed' : 'passed'}`);
  return { status: failed ? FAILED : 200, headers: TEXT, body: `${lines.join('\n')}\n` };
}

function probeHandler(health: Health, probe: ProbeTag, label: string, exposeDetails: boolean): Handler {
  return (req) => {
    const query = queryOf(req.url);
    const verbose = query?.has('verbose') === true;
    const exclude = query?.getAll('exclude');
    const report = health.report(probe, exclude === undefined ? undefined : { exclude });
    return isPromiseLike(report)
      ? report.then((r) => probeReply(health, r, label, verbose, exposeDetails))
      : probeReply(health, report, label, verbose, exposeDetails);
  };
}

function oneCheckReply(outcome: CheckOutcome, exposeDetails: boolean): Reply {
  if (outcome.status !== 'fail') return OK;
  const reason = publicOutput(outcome, exposeDetails) ?? WITHHELD;
  return { status: FAILED, headers: TEXT, body: `internal server error: ${reason}` };
}

function oneCheckHandler(health: Health, probe: ProbeTag, exposeDetails: boolean) {
  return (_req: RequestView, name: string): Reply | Promise<Reply> => {
    const outcome = health.checkOne(name, probe);
    if (outcome === undefined)
      return { status: 404, headers: TEXT, body: `no ${probe} check named ${JSON.stringify(name)}` };
    return isPromiseLike(outcome)
      ? outcome.then((o) => oneCheckReply(o, exposeDetails))
      : oneCheckReply(outcome, exposeDetails);
  };
}

function documentHandler(health: Health, exposeDetails: boolean): Handler {
  const reply = (report: HealthReport): Reply => ({
    status: report.status === 'fail' ? FAILED : 200,
    headers: HEALTH_JSON,
    body: toHealthDocument(health, report, { exposeDetails }),
  });
  return () => {
    const report = health.report('all');
    return isPromiseLike(report) ? report.then(reply) : reply(report);
  };
}

/**
 * The neutral health endpoints: `/health` (application/health+json; pass/warn → 200, fail → 503) and the
 * Kubernetes-style `/livez`, `/readyz`, `/startupz` (`ok`; `?verbose`; `?exclude=<check>`, repeatable; failures
 * always verbose with reasons withheld; `/<probe>/<check>` for one check). Every answer carries
 * `Cache-Control: no-store`. Mount with `healthRoutes()` from `@bulwark/health/express`, `/fastify` or `/koa`, or
 * pass to `toExpressEndpoints` & co. yourself.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * import { toExpressEndpoints } from '@bulwark/http/express';
 * app.use(toExpressEndpoints(healthEndpoints(health, { paths: { health: '/status' }, exposeDetails: !isProd })));
 * ```
 */
export function healthEndpoints(health: Health, options: HealthEndpointsOptions = {}): Endpoint[] {
  const o = parseOptions(optionsSchema, options, 'healthEndpoints()');
  const pathOf = (name: HealthEndpointName) => (o.paths[name] === undefined ? defaultPaths[name] : o.paths[name]);
  const names = new Map<Endpoint, HealthEndpointName>();
  const documentPath = pathOf('health');
  if (documentPath !== false)
    names.set({ path: documentPath, handler: documentHandler(health, o.exposeDetails) }, 'health');
  for (const probe of ['live', 'ready', 'startup'] as const) {
    const path = pathOf(probe);
    if (path === false) continue;
    const label = path.slice(path.lastIndexOf('/') + 1) || probe;
    const endpoint: Endpoint = {
      path,
      handler: probeHandler(health, probe, label, o.exposeDetails),
      child: oneCheckHandler(health, probe, o.exposeDetails),
    };
    names.set(endpoint, probe);
  }
  const endpoints = [...names.keys()];
  const authorize = o.authorize;
  return authorize === undefined ? endpoints : authorizeEndpoints(endpoints, (req, e) => authorize(req, names.get(e)!));
}
