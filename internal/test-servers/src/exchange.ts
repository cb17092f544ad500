/**
 * Servers for the HTTP kernel's exchange contract (request data, replacing it, response transforms, URL rewrites):
 * Express 5 and 4, Fastify 5, Koa 3 and 2 on `listen(0)`, with the framework's usual body parser, the guards under
 * test mounted at each route (where route parameters are known), and the same routes everywhere:
 * - `GET|POST /items/:id` answers JSON `{ body, query, params, originalUrl, after }` as the route sees them;
 * - `GET /data` answers `{ value: 1 }`; `GET /boom` throws; `GET /stream` streams JSON text; `GET /text` answers text.
 * Errors reach the framework's error handling, which answers `{ handled: message }` with the error's status
 * (`status`/`statusCode`, e.g. a body parser's 400 or 413) or 500.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import express5 from 'express';
import express4 from 'express4';
import Fastify, { type FastifyRequest } from 'fastify';
import Koa3, { type Context } from 'koa';
import Koa2 from 'koa2';
import Router from '@koa/router';
import { bodyParser as koaBodyParser } from '@koa/bodyparser';
import type { Guard, UrlRewrite } from '@bulwark/http';
import { toExpress, toExpressRewrite } from '@bulwark/http/express';
import { toFastify, toFastifyRewriteUrl, type FastifyGuardHook } from '@bulwark/http/fastify';
import { toKoa, toKoaRewrite } from '@bulwark/http/koa';
import type { Framework, TestServer } from './servers.js';

export interface ExchangeOptions {
  /** Guards mounted at every route, in order. */
  guards?: readonly Guard[];
  /** A URL rewrite before routing (Fastify: its `rewriteUrl` option). */
  rewrite?: UrlRewrite;
  /** Mount the framework's usual body parser (Fastify always parses JSON). Default true. */
  bodyParser?: boolean;
  /** Largest body the parser accepts, in bytes. Default 1 MiB. */
  bodyLimit?: number;
  fastifyHook?: FastifyGuardHook;
}

const errorStatus = (err: unknown): number => {
  const e = err as { status?: unknown; statusCode?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  return status >= 400 && status < 600 ? status : 500;
};
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const streamed = () => Readable.from(['{"streamed":', 'true}']);

function listening(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function serveExchange(framework: Framework, options: ExchangeOptions = {}): Promise<TestServer> {
  const guards = options.guards ?? [];
  const parse = options.bodyParser !== false;
  const limit = options.bodyLimit ?? 1024 * 1024;
  const noHang = { hung: () => new Promise<void>(() => {}) };

  if (framework === 'express5' || framework === 'express4') {
    const express = framework === 'express5' ? express5 : express4;
    const app = express();
    if (options.rewrite) app.use(toExpressRewrite(options.rewrite));
    if (parse) app.use(express.json({ limit }));
    const g = guards.map((guard) => toExpress(guard));
    const item = (req: express5.Request, res: express5.Response) =>
      void res.json({
        body: req.body as unknown,
        query: req.query,
        params: req.params,
        originalUrl: req.originalUrl,
      });
    app.get('/items/:id', ...g, item);
    app.post('/items/:id', ...g, item);
    app.get('/data', ...g, (_req, res) => void res.json({ value: 1 }));
    app.get('/boom', ...g, () => {
      throw new Error('boom');
    });
    app.get('/stream', ...g, (_req, res) => {
      res.type('application/json');
      streamed().pipe(res);
    });
    app.get('/text', ...g, (_req, res) => void res.send('plain'));
    app.use((err: unknown, _req: express5.Request, res: express5.Response, _next: express5.NextFunction) => {
      res.status(errorStatus(err)).json({ handled: message(err) });
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return { url: listening(server), ...noHang, close: () => closeServer(server) };
  }

  if (framework === 'fastify5') {
    const app = Fastify({
      bodyLimit: limit,
      ...(options.rewrite ? { rewriteUrl: toFastifyRewriteUrl(options.rewrite) } : {}),
    });
    if (!parse) app.removeAllContentTypeParsers();
    for (const [i, guard] of guards.entries()) {
      await app.register(toFastify(guard, { name: `guard-${i}`, hook: options.fastifyHook }));
    }
    const item = async (request: FastifyRequest) => ({
      body: request.body,
      query: request.query,
      params: request.params,
      originalUrl: request.originalUrl,
    });
    app.get('/items/:id', item);
    app.post('/items/:id', item);
    app.get('/data', async () => ({ value: 1 }));
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    app.get('/stream', async (_request, reply) => reply.type('application/json').send(streamed()));
    app.get('/text', async () => 'plain');
    app.setErrorHandler((err, _request, reply) => {
      void reply.code(errorStatus(err)).send({ handled: message(err) });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url: listening(app.server),
      ...noHang,
      close: async () => {
        app.server.closeAllConnections();
        await app.close();
      },
    };
  }

  const app = framework === 'koa3' ? new Koa3() : new Koa2();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      ctx.status = errorStatus(err);
      ctx.body = { handled: message(err) };
    }
  });
  if (options.rewrite) app.use(toKoaRewrite(options.rewrite));
  if (parse) app.use(koaBodyParser({ jsonLimit: limit }));
  const router = new Router();
  const g = guards.map((guard) => toKoa(guard));
  const item = (ctx: Context) => {
    ctx.body = {
      body: (ctx.request as { body?: unknown }).body,
      query: ctx.query,
      params: (ctx as { params?: unknown }).params,
      originalUrl: ctx.originalUrl,
    };
  };
  router.get('/items/:id', ...g, item);
  router.post('/items/:id', ...g, item);
  router.get('/data', ...g, (ctx) => {
    ctx.body = { value: 1 };
  });
  router.get('/boom', ...g, () => {
    throw new Error('boom');
  });
  router.get('/stream', ...g, (ctx) => {
    ctx.type = 'application/json';
    ctx.body = streamed();
  });
  router.get('/text', ...g, (ctx) => {
    ctx.body = 'plain';
  });
  app.use(router.routes());
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { url: listening(server), ...noHang, close: () => closeServer(server) };
}
