import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { durationMsSchema, functionSchema, methodsSchema, parseOptions } from '@bulwark/core/internal';
import { authorizeEndpoints, problemReply, type Endpoint, type Reply, type RequestView } from '@bulwark/http';
import {
  StatusCollector,
  type StatusBreaker,
  type StatusBulkhead,
  type StatusHealth,
  type StatusListener,
} from './status-collector.js';
import { statusCss, statusHtml, statusIcon, statusJs } from './status-page-assets.js';

/** Most bytes an event stream may hold for a client that is not reading (about a minute of a busy page). */
const MAX_BACKLOG_BYTES = 256 * 1024;

const isBreaker = (v: unknown) => typeof v === 'object' && v !== null && 'state' in v && 'counts' in v;
const isBulkhead = (v: unknown) => typeof v === 'object' && v !== null && 'active' in v && 'queued' in v;

const optionsSchema = z
  .object({
    /**
     * Who may see the page: it names your dependencies and shows their state. Required (`() => true` for a port
     * only operators reach); refused requests get 403.
     */
    authorize: functionSchema<(req: RequestView) => boolean | Promise<boolean>>(),
    /** Where the page answers; its script, style and event stream live under it. */
    path: z
      .string()
      .regex(/^\/[^?#]*[^/?#]$/, { message: 'must start with / and not end with /' })
      .default('/bulwark'),
    /** Breakers to show from the start; others appear with their first call while the page is open. */
    breakers: z.array(z.custom<StatusBreaker>(isBreaker, { message: 'expected a circuitBreaker()' })).default([]),
    /** Bulkheads and adaptive limits to show from the start; others appear with their first call. */
    bulkheads: z
      .array(z.custom<StatusBulkhead>(isBulkhead, { message: 'expected a bulkhead() or adaptiveLimit()' }))
      .default([]),
    /** A `createHealth()` whose checks to show (its report is read every `healthIntervalMs`). */
    health: methodsSchema<StatusHealth>(['report'], 'expected a createHealth() instance').optional(),
    /** How often the page is sent a new state. */
    intervalMs: durationMsSchema.min(100, { message: 'must be at least 100 ms' }).default(1_000),
    /** How often the health report is read while a page is open (checks may cost a call to a dependency). */
    healthIntervalMs: durationMsSchema.default(5_000),
    /** Pages open at once; more get 503. */
    maxClients: z.number().int().positive().default(16),
    /** The wall clock, for the times shown. */
    now: functionSchema<() => number>().default(() => Date.now),
  })
  .strict();

/** Options of {@link statusPageEndpoint} (and `statusPage()` in the framework entries). */
export type StatusPageOptions = z.input<typeof optionsSchema>;

// The page runs only its own script and style: no inline code, so this policy holds as written.
const pageCsp =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";
const asset = (type: string, body: string, extra: Record<string, string> = {}): Reply => ({
  status: 200,
  headers: { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...extra },
  body,
});
const attribute = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A live status page, Hystrix-dashboard style: circuit breakers with their state and window, rate limits' recent
 * decisions, bulkhead occupancy, policy call rates by outcome, health checks, and a feed of state changes and store
 * failures, updated every second over server-sent events. Nothing runs while no page is open: the channels it reads
 * are subscribed to only while one is. No build step, no inline script (`Content-Security-Policy` without
 * `unsafe-inline`). `<path>` is the page; `<path>/events` the event stream; `<path>/status.json` one snapshot.
 * Event streams end when graceful shutdown begins, so they do not hold the drain; a client that stops reading is
 * disconnected once 256 KiB wait for it.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * app.use(toExpressEndpoints([statusPageEndpoint({ authorize: (req) => req.ip === '127.0.0.1', health })]));
 * ```
 */
export function statusPageEndpoint(options: StatusPageOptions): Endpoint {
  const o = parseOptions(optionsSchema, options, 'statusPage()');
  const collector = new StatusCollector({
    breakers: o.breakers,
    bulkheads: o.bulkheads,
    health: o.health,
    intervalMs: o.intervalMs,
    healthIntervalMs: o.healthIntervalMs,
    now: o.now,
  });

  const streamHeaders = { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' };
  const events = (req: RequestView): Reply => {
    if (req.method === 'HEAD') return { status: 200, headers: streamHeaders }; // no stream to hold open
    if (collector.listeners >= o.maxClients) {
      return problemReply({ status: 503, title: 'Service Unavailable', detail: 'too many status pages open' });
    }
    const stream = new PassThrough();
    const send = (event: string, data: unknown) => {
      // A client that stops reading is dropped, not buffered for without end; its EventSource reconnects.
      if (stream.writableLength + stream.readableLength > MAX_BACKLOG_BYTES) stream.destroy();
      else stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    stream.write('retry: 2000\n\n'); // reconnect after 2 s; also sends the head at once on every framework
    const listener: StatusListener = {
      snapshot: (s) => send('snapshot', s),
      feed: (e) => send('feed', e),
      end: () => stream.end(),
    };
    const remove = collector.add(listener);
    stream.once('close', remove);
    return { status: 200, headers: streamHeaders, body: stream };
  };

  const child = (req: RequestView, segment: string): Reply => {
    switch (segment) {
      case 'events':
        return events(req);
      case 'status.json':
        return asset('application/json', JSON.stringify(collector.snapshot));
      case 'status.js':
        return asset('text/javascript; charset=utf-8', statusJs);
      case 'status.css':
        return asset('text/css; charset=utf-8', statusCss);
      case 'favicon.svg':
        return asset('image/svg+xml', statusIcon);
      default:
        return problemReply({ status: 404, title: 'Not Found', detail: `no status resource ${segment}` });
    }
  };
  const page = (req: RequestView): Reply => {
    const path = req.originalUrl.split('?')[0]!.replace(/\/+$/, '');
    return asset('text/html; charset=utf-8', statusHtml(attribute(path)), {
      'content-security-policy': pageCsp,
      'referrer-policy': 'no-referrer',
    });
  };
  const authorize = o.authorize;
  return authorizeEndpoints([{ path: o.path, handler: page, child }], (req) => authorize(req))[0]!;
}
