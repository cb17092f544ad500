import Fastify, { type FastifyInstance } from 'fastify';
import { auditRequests } from '@bulwark/audit-log/fastify';
import { apiVersioning, fastifyRewriteUrl } from '@bulwark/api-versioning/fastify';
import { flagRoutes, flagsMiddleware } from '@bulwark/feature-flags/fastify';
import { healthRoutes } from '@bulwark/health/fastify';
import { requestId, requestSignal } from '@bulwark/http/fastify';
import { rateLimit } from '@bulwark/rate-limiter/fastify';
import { metricsRoute, requestMetrics, statusPage } from '@bulwark/telemetry/fastify';
import { validateRequest } from '@bulwark/sanitize/fastify';
import { createNote, noteSchema, quoteRoute } from './routes.js';
import type { Service } from './service.js';

/** The service on Fastify (URI versions are rewritten before routing, which Fastify does before any hook). */
export async function fastifyApp(service: Service): Promise<FastifyInstance> {
  const user = (req: { header(name: string): string | undefined }) => req.header('x-user');
  const app = Fastify({ rewriteUrl: fastifyRewriteUrl(service.versioning) });
  await app.register(requestId());
  await app.register(auditRequests(service.audit, { user })); // first: it records the refusals after it
  await app.register(healthRoutes(service.health));
  await app.register(metricsRoute({ registry: service.registry }));
  await app.register(statusPage(service.statusPage)); // /bulwark, for operators
  await app.register(requestMetrics({ registry: service.registry }));
  await app.register(rateLimit({ limiter: service.limiter }));
  await app.register(apiVersioning(service.versioning));
  await app.register(flagsMiddleware(service.flags, { targetingKey: user }));
  await app.register(flagRoutes(service.flags, { targetingKey: user }));
  app.get('/whoami', async (request) => ({ requestId: request.requestId, user: request.headers['x-user'] ?? null }));
  app.get('/quote', async (_request, reply) => {
    const { status, body } = await quoteRoute(service, requestSignal(reply));
    return reply.code(status).send(body);
  });
  await app.register(async (notes) => {
    await notes.register(validateRequest(noteSchema));
    notes.post('/notes', async (request, reply) => {
      const { status, body } = createNote(request.body as { title: string });
      return reply.code(status).send(body);
    });
  });
  app.get('/beta', { config: { featureFlag: 'beta-notes' } }, async () => ({ beta: true }));
  return app;
}
