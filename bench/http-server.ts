/**
 * A server for the adapter-overhead benchmark: `<framework> <bare|guard|handwritten>`. `guard` mounts a no-op
 * synchronous guard through the Bulwark adapter; `handwritten` mounts the framework's own no-op middleware (the
 * least any middleware costs there); `bare` mounts nothing. Prints the port, then serves until killed.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { NEXT, type Guard } from '@bulwark/http';
import { toExpress } from '@bulwark/http/express';
import { toFastify } from '@bulwark/http/fastify';
import { toKoa } from '@bulwark/http/koa';

const [framework, mode] = process.argv.slice(2);
const guard: Guard = () => NEXT;
const body = { hello: 'world' };

// The runner reads this process's CPU time around a measurement window (on stdin 'cpu'), because on a small
// machine CPU per request is far steadier than throughput, which the load generator's scheduling swamps.
process.stdin.setEncoding('utf8');
process.stdin.on('data', (line: string) => {
  if (line.trim() === 'cpu') {
    const { user, system } = process.cpuUsage();
    console.log(`cpu ${user + system}`);
  }
  if (line.trim() === 'exit') process.exit(0); // a clean exit, so --cpu-prof can write its profile

});

if (framework === 'express') {
  const app = express();
  if (mode === 'guard') app.use(toExpress(guard));
  if (mode === 'handwritten') app.use((_req, _res, next) => next());
  app.get('/', (_req, res) => void res.json(body));
  const server = app.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
} else if (framework === 'fastify') {
  const app = Fastify();
  if (mode === 'guard') await app.register(toFastify(guard, { name: 'bench-noop' }));
  if (mode === 'handwritten') app.addHook('onRequest', (_request, _reply, done) => done());
  app.get('/', async () => body);
  await app.listen({ port: 0, host: '127.0.0.1' });
  console.log((app.server.address() as AddressInfo).port);
} else {
  const app = new Koa();
  if (mode === 'guard') app.use(toKoa(guard));
  if (mode === 'handwritten') app.use((_ctx, next) => next());
  app.use((ctx) => {
    ctx.body = body;
  });
  const server = app.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
}
