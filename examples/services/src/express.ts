import express from 'express';
import { auditRequests } from '@bulwark/audit-log/express';
import { apiVersioning } from '@bulwark/api-versioning/express';
import { flagsMiddleware, requireFlag } from '@bulwark/feature-flags/express';
import { healthRoutes } from '@bulwark/health/express';
import { requestId, requestSignal } from '@bulwark/http/express';
import { rateLimit } from '@bulwark/rate-limiter/express';
import { metricsRoute, requestMetrics, statusPage } from '@bulwark/telemetry/express';
import { validateRequest } from '@bulwark/sanitize/express';
import { createNote, noteSchema, quoteRoute } from './routes.js';
import type { Service } from './service.js';

/** The service on Express. */
export function expressApp(service: Service): express.Express {
  const user = (req: { header(name: string): string | undefined }) => req.header('x-user');
  const app = express();
  app.use(requestId());
  app.use(auditRequests(service.audit, { user })); // first: it records the refusals of the guards after it
  app.use(healthRoutes(service.health));
  app.use(metricsRoute({ registry: service.registry }));
  app.use(statusPage(service.statusPage)); // /bulwark, for operators
  app.use(requestMetrics({ registry: service.registry }));
  app.use(rateLimit({ limiter: service.limiter }));
  app.use(express.json());
  app.use(apiVersioning(service.versioning));
  app.use(flagsMiddleware(service.flags, { targetingKey: user }));
  app.get('/whoami', (req, res) => void res.json({ requestId: req.requestId, user: user(req) ?? null }));
  app.get('/quote', async (req, res) => {
    const { status, body } = await quoteRoute(service, requestSignal(req));
    res.status(status).json(body);
  });
  app.post('/notes', validateRequest(noteSchema), (req, res) => {
    const { status, body } = createNote(req.body as { title: string });
    res.status(status).json(body);
  });
  app.get('/beta', requireFlag(service.flags, 'beta-notes', { targetingKey: user }), (_req, res) => {
    res.json({ beta: true });
  });
  return app;
}
