// Starts the service on one framework: tsx src/main.ts <express|fastify|koa>. Uses Redis at REDIS_URL when it
// answers (limits shared across instances), else limits per process; calls a local flaky upstream for /quote.
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { gracefulShutdown } from '@bulwark/health';
import { flakyUpstream } from '@bulwark/testing';
import { expressApp } from './express.js';
import { fastifyApp } from './fastify.js';
import { koaApp } from './koa.js';
import { createService } from './service.js';

const framework = process.argv[2] ?? 'express';
const port = Number(process.env.PORT ?? 3000);
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  lazyConnect: true,
  maxRetriesPerRequest: 1,
});
const hasRedis = await redis.connect().then(
  () => true,
  () => false,
);
const upstream = await flakyUpstream(['error', 'ok', 'slow', 'busy'], { fallback: 'ok' });
const service = createService({
  ...(hasRedis ? { redis } : {}),
  upstreamUrl: upstream.url,
  ...(process.env.OPERATOR_TOKEN ? { operatorToken: process.env.OPERATOR_TOKEN } : {}),
});

let server: Server;
if (framework === 'fastify') {
  const app = await fastifyApp(service);
  await app.listen({ port, host: '127.0.0.1' });
  server = app.server;
} else {
  const handle = framework === 'koa' ? koaApp(service).callback() : expressApp(service);
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}
console.log(`${framework} service on http://127.0.0.1:${port} (rate limits ${hasRedis ? 'in Redis' : 'per process'})`);
console.log('Try: /whoami  /quote  /v1/notes (POST {"name":"x"})  /beta with x-user: alice  /readyz  /metrics');

gracefulShutdown([server], {
  health: service.health,
  readinessDelayMs: 0,
  drainTimeoutMs: 5_000,
  hooks: [
    { name: 'service', run: () => service.close() },
    { name: 'upstream', run: () => upstream.close() },
    { name: 'redis', run: () => void redis.disconnect() },
  ],
});
