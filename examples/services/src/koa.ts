import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { auditRequests } from '@bulwark/audit-log/koa';
import { apiVersioning } from '@bulwark/api-versioning/koa';
import { flagsMiddleware, requireFlag } from '@bulwark/feature-flags/koa';
import { healthRoutes } from '@bulwark/health/koa';
import { requestId, requestSignal } from '@bulwark/http/koa';
import { rateLimit } from '@bulwark/rate-limiter/koa';
import { metricsRoute, requestMetrics, statusPage } from '@bulwark/telemetry/koa';
import { validateRequest } from '@bulwark/sanitize/koa';
import { createNote, noteSchema, quoteRoute } from './routes.js';
import type { Service } from './service.js';

/** The service on Koa. */
export function koaApp(service: Service): Koa {
  const user = (req: { header(name: string): string | undefined }) => req.header('x-user');
  const app = new Koa();
  app.use(requestId());
  app.use(auditRequests(service.audit, { user })); // first: it records the refusals of the middleware after it
  app.use(healthRoutes(service.health));
  app.use(metricsRoute({ registry: service.registry }));
  app.use(statusPage(service.statusPage)); // /bulwark, for operators
  app.use(requestMetrics({ registry: service.registry }));
  app.use(rateLimit({ limiter: service.limiter }));
  app.use(bodyParser());
  app.use(apiVersioning(service.versioning));
  app.use(flagsMiddleware(service.flags, { targetingKey: user }));
  const router = new Router();
  router.get('/whoami', (ctx) => {
    ctx.body = { requestId: (ctx.state as { requestId?: string }).requestId, user: ctx.get('x-user') || null };
  });
  router.get('/quote', async (ctx) => {
    const { status, body } = await quoteRoute(service, requestSignal(ctx));
    ctx.status = status;
    ctx.body = body;
  });
  router.post('/notes', validateRequest(noteSchema), (ctx) => {
    const { status, body } = createNote(ctx.request.body as { title: string });
    ctx.status = status;
    ctx.body = body;
  });
  router.get('/beta', requireFlag(service.flags, 'beta-notes', { targetingKey: user }), (ctx) => {
    ctx.body = { beta: true };
  });
  app.use(router.routes());
  return app;
}
