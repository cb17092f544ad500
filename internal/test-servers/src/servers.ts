/**
 * Real servers for the adapter contract: Express 5 and 4, Fastify 5, Koa 3 and 2, each on `listen(0)`, each with
 * the same routes after the guard under test (/echo, /created → 201, /fail → 500, /hang never answers, /handled),
 * and each framework's own error handling turning errors into
 * `500 {"handled": message}` so tests can see that errors reached it.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import express5 from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import type { RequestHandler } from 'express';
import type { FastifyPluginCallback } from 'fastify';
import type { Middleware } from 'koa';
import type { Endpoint, Guard, Handler } from '@bulwark/http';
import { requestSignal as expressSignal, toExpress, toExpressEndpoints, toExpressHandler } from '@bulwark/http/express';
import {
  requestSignal as fastifySignal,
  toFastify,
  toFastifyEndpoints,
  toFastifyHandler,
  type FastifyGuardHook,
} from '@bulwark/http/fastify';
import { requestSignal as koaSignal, toKoa, toKoaEndpoints, toKoaHandler } from '@bulwark/http/koa';

export const frameworks = ['express5', 'express4', 'fastify5', 'koa3', 'koa2'] as const;
export type Framework = (typeof frameworks)[number];

export interface TestServer {
  readonly url: string;
  /** Resolves the next time a request reaches the /hang route (which never answers). */
  hung(): Promise<void>;
  close(): Promise<void>;
}

/** One package's middleware as each framework takes it (its `/express`, `/fastify` and `/koa` exports). */
export interface Mount {
  readonly express: RequestHandler;
  readonly fastify: FastifyPluginCallback;
  readonly koa: Middleware;
}

/** A package's three adapter factories (`loadShedding` from `/express`, `/fastify` and `/koa`, say). */
export interface AdapterFactories<O> {
  readonly express: (options: O) => RequestHandler;
  readonly fastify: (options: O & { hook?: FastifyGuardHook }) => FastifyPluginCallback;
  readonly koa: (options: O) => Middleware;
}

/** One {@link Mount} from the same options through each adapter; `hook` goes to Fastify only. */
export function mountEach<O extends object>(
  factories: AdapterFactories<O>,
  options: O & { hook?: FastifyGuardHook },
): Mount {
  const { hook, ...rest } = options;
  return {
    express: factories.express(rest as O),
    fastify: factories.fastify({ ...(rest as O), hook }),
    koa: factories.koa(rest as O),
  };
}

export interface ServeOptions {
  /** Packages' own adapter exports, mounted first, in order (Fastify: `register`ed). */
  mounts?: readonly Mount[];
  /**
   * Told the `requestSignal` of each request to `/signal` (read twice: `same` says both reads gave one signal).
   * `/signal` answers `ok`, or with `?hang` never answers (like `/hang`).
   */
  onSignal?: (signal: AbortSignal, same: boolean) => void;
  /** Turn on the framework's own proxy trust: Express `trust proxy`, Fastify `trustProxy`, Koa `app.proxy`. */
  trustProxy?: boolean;
  /** A route `/exempt` answering 200 `exempt`; on Fastify it carries this route `config`. */
  exemptConfig?: Record<string, unknown>;
  guard?: Guard;
  handler?: Handler;
  /** Endpoints mounted before the routes (after the guard), as each framework's endpoint adapter mounts them. */
  endpoints?: readonly Endpoint[];
  /** Mount the endpoints under this prefix (Express `app.use(prefix, …)`, Fastify `register(…, { prefix })`). */
  endpointsPrefix?: string;
  /** State keys the /echo route reports. */
  stateKeys?: readonly string[];
  fastifyHook?: FastifyGuardHook;
}

function hangTracker() {
  let waiting: (() => void)[] = [];
  return {
    hung: () => new Promise<void>((resolve) => waiting.push(resolve)),
    arrived: () => {
      const w = waiting;
      waiting = [];
      w.forEach((f) => f());
    },
  };
}

function listening(server: Server): string {
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** A listening test server: its base URL, and a close that also drops keep-alive connections. */
export interface Listening {
  readonly url: string;
  readonly close: () => Promise<void>;
}

/**
 * Serves a request listener (an Express app, a Koa app's `callback()`) on a free loopback port.
 *
 * @example
 * ```ts
 * const { url, close } = await listen(app); // Express
 * const koa = await listen(app.callback());
 * ```
 */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => unknown): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: listening(server), close: () => closeServer(server) };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function serve(framework: Framework, options: ServeOptions): Promise<TestServer> {
  const keys = options.stateKeys ?? [];
  const hang = hangTracker();
  const pick = (from: Record<string, unknown>) => Object.fromEntries(keys.map((k) => [k, from[k] ?? null]));

  if (framework === 'express5' || framework === 'express4') {
    const app = (framework === 'express5' ? express5 : express4)();
    if (options.trustProxy) app.set('trust proxy', true);
    for (const mount of options.mounts ?? []) app.use(mount.express);
    if (options.guard) app.use(toExpress(options.guard));
    if (options.endpoints) app.use(options.endpointsPrefix ?? '/', toExpressEndpoints(options.endpoints));
    if (options.handler) app.get('/handled', toExpressHandler(options.handler));
    app.get(
      '/echo',
      (req, res) =>
        void res.json({ state: pick(res.locals), request: pick(req as unknown as Record<string, unknown>) }),
    );
    app.get('/exempt', (_req, res) => void res.send('exempt'));
    app.get('/signal', (req, res) => {
      const signal = expressSignal(req);
      options.onSignal?.(signal, signal === expressSignal(req));
      if (req.query.hang === undefined) res.send('ok');
      else hang.arrived();
    });
    app.get('/created', (_req, res) => void res.status(201).send('made'));
    app.get('/fail', (_req, res) => void res.status(500).send('route failed'));
    app.get('/hang', () => hang.arrived());
    app.use((err: Error, _req: unknown, res: express5.Response, _next: unknown) => {
      res.status(500).json({ handled: err.message });
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return { url: listening(server), hung: hang.hung, close: () => closeServer(server) };
  }

  if (framework === 'fastify5') {
    const app = Fastify({ trustProxy: options.trustProxy === true });
    for (const mount of options.mounts ?? []) await app.register(mount.fastify);
    if (options.guard) {
      await app.register(toFastify(options.guard, { name: 'test-guard', hook: options.fastifyHook, state: keys }));
    }
    if (options.endpoints) {
      await app.register(toFastifyEndpoints(options.endpoints), { prefix: options.endpointsPrefix ?? '' });
    }
    if (options.handler) app.get('/handled', toFastifyHandler(options.handler));
    app.get('/echo', async (request) => ({ state: pick(request as unknown as Record<string, unknown>) }));
    app.get('/exempt', { config: options.exemptConfig ?? {} }, async () => 'exempt');
    app.get('/signal', (request, reply) => {
      const signal = fastifySignal(reply);
      options.onSignal?.(signal, signal === fastifySignal(reply));
      if ((request.query as Record<string, unknown>).hang === undefined) void reply.send('ok');
      else hang.arrived();
    });
    app.get('/created', async (_request, reply) => reply.code(201).send('made'));
    app.get('/fail', async (_request, reply) => reply.code(500).send('route failed'));
    app.get('/hang', (_request, _reply) => {
      hang.arrived();
    });
    app.setErrorHandler((err: Error, _request, reply) => {
      void reply.code(500).send({ handled: err.message });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url: listening(app.server),
      hung: hang.hung,
      close: async () => {
        app.server.closeAllConnections();
        await app.close();
      },
    };
  }

  const app = framework === 'koa3' ? new Koa3() : new Koa2();
  app.proxy = options.trustProxy === true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      ctx.status = 500;
      ctx.body = { handled: (err as Error).message };
    }
  });
  for (const mount of options.mounts ?? []) app.use(mount.koa);
  if (options.guard) app.use(toKoa(options.guard));
  if (options.endpoints) {
    // Koa has no mount in core: strip the prefix the way koa-mount does.
    const endpoints = toKoaEndpoints(options.endpoints);
    const prefix = options.endpointsPrefix ?? '';
    app.use(async (ctx, next) => {
      if (!ctx.path.startsWith(prefix)) return next();
      const original = ctx.path;
      ctx.path = original.slice(prefix.length) || '/';
      try {
        await endpoints(ctx, async () => {
          ctx.path = original;
          await next();
        });
      } finally {
        ctx.path = original;
      }
    });
  }
  const handled = options.handler ? toKoaHandler(options.handler) : undefined;
  app.use(async (ctx, next) => {
    if (ctx.path === '/echo') ctx.body = { state: pick(ctx.state) };
    else if (ctx.path === '/exempt') ctx.body = 'exempt';
    else if (ctx.path === '/signal') {
      const signal = koaSignal(ctx);
      options.onSignal?.(signal, signal === koaSignal(ctx));
      if (ctx.query.hang === undefined) ctx.body = 'ok';
      else {
        hang.arrived();
        await new Promise(() => {});
      }
    } else if (ctx.path === '/created') {
      ctx.status = 201;
      ctx.body = 'made';
    } else if (ctx.path === '/fail') {
      ctx.status = 500;
      ctx.body = 'route failed';
    } else if (ctx.path === '/hang') {
      hang.arrived();
      await new Promise(() => {});
    } else if (ctx.path === '/handled' && handled) await handled(ctx, next);
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { url: listening(server), hung: hang.hung, close: () => closeServer(server) };
}
