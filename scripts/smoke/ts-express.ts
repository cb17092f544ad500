// Smoke test from the packed tarballs, strict TypeScript, Express: types of the options READMEs show.
import express from 'express';
import { compose, handleResult, timeout, type CallOutcome } from '@bulwark/core';
import { retry } from '@bulwark/retry';
import { circuitBreaker, timeWindow, type CircuitBreakerStats } from '@bulwark/circuit-breaker';
import { rateLimiter, type Decision } from '@bulwark/rate-limiter';
import { rateLimit } from '@bulwark/rate-limiter/express';
import { requestId, toExpress, toExpressRewrite } from '@bulwark/http/express';
import type { Guard, RequestView } from '@bulwark/http';
import { createHealth } from '@bulwark/health';
import { healthRoutes } from '@bulwark/health/express';
import { featureFlags, type FlagEvaluation } from '@bulwark/feature-flags';
import { flagsMiddleware, requireFlag } from '@bulwark/feature-flags/express';
import { createVersioning, headerVersion, uriVersion, type DeprecationEntry } from '@bulwark/api-versioning';
import { apiVersioning, deprecateRoute } from '@bulwark/api-versioning/express';
import {
  createAuditLog,
  fileSink,
  verifyLog,
  fileLogLines,
  type AuditRecord,
  type AuditStats,
  type VerifyResult,
} from '@bulwark/audit-log';
import { auditRequests } from '@bulwark/audit-log/express';
import fc from 'fast-check';
import {
  circuitBreakerOptions,
  faults,
  rateLimiterOptions,
  type FaultProxy,
  type ScheduleResult,
} from '@bulwark/testing';

const versioning = createVersioning({
  versions: [
    { version: '2024-06-01', deprecatedAt: new Date('2025-01-01'), sunsetAt: '2026-06-01' },
    { version: '2025-01-01' },
  ],
  extract: [uriVersion(), headerVersion('api-version')],
  defaultVersion: 'latest',
});
const deprecations: DeprecationEntry[] = versioning.deprecations();

const flags = featureFlags({
  flags: {
    flags: {
      'new-checkout': { rules: [{ rollout: { percentage: 10 } }] },
      color: { variants: { red: '#d00', blue: '#00d' }, defaultVariant: 'red' },
    },
  },
});
const color: string = flags.getString('color', 'grey', { targetingKey: 'u1' });
const detail: FlagEvaluation<boolean> = flags.evaluate('new-checkout', { targetingKey: 'u1' }, false);

const breaker = circuitBreaker({ window: timeWindow({ windowMs: '30s', minimumCalls: 5 }), stats: true });
const policy = compose(
  retry({ retryOn: handleResult<Response>((r) => r.status >= 500).orWhen(() => true) }),
  breaker,
  timeout(1_000),
);
const getUser = policy.fn((id: string) => fetch(`http://users.internal/${id}`));
const stats: CircuitBreakerStats = breaker.stats();
const classify = (o: CallOutcome<unknown>) => o.kind;

const validated: Guard = Object.assign(
  (req: RequestView) =>
    typeof req.body === 'object'
      ? { kind: 'next' as const, body: req.body }
      : { kind: 'respond' as const, status: 400 },
  { needs: ['body'] as const },
);

const app = express();
app.use(healthRoutes(createHealth()));
app.use(requestId());
const audit = createAuditLog({
  app: { id: 'smoke', version: '1.0.0' },
  sink: fileSink('audit.jsonl', { fsync: 'always' }),
});
app.use(auditRequests(audit, { user: (req) => req.header('x-user'), statuses: { 401: 'authz_fail' } }));
const seq: number | undefined = audit.record({ event: 'authz_admin', args: ['root', 'grant'], level: 'WARN' });
const auditStats: AuditStats = audit.stats();
async function criticalEvents(): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of audit.critical({ limit: 10 })) out.push(r);
  return out;
}
const verifyAudit = (pub: string): Promise<VerifyResult> =>
  verifyLog({ lines: fileLogLines('audit.jsonl'), checkpoints: [], publicKey: pub });
app.use(toExpressRewrite((req) => (req.path.startsWith('/v2/') ? req.url.slice(3) : undefined)));
app.use(rateLimit({ limiter: rateLimiter({ limit: 10, windowMs: '1 minute' }), headers: 'draft-8', statusCode: 429 }));
app.use(apiVersioning(versioning));
app.get('/old', deprecateRoute({ deprecatedAt: '2026-01-01' }), (req, res) => {
  const version: string | undefined = req.apiVersion;
  res.json({ version });
});
app.use(flagsMiddleware(flags, { targetingKey: (req) => req.header('x-user'), headers: ['x-client'] }));
app.get('/checkout', requireFlag(flags, 'new-checkout'), (req, res) => {
  res.json({ on: req.flags?.isEnabled('new-checkout') ?? false });
});
app.post('/users', express.json(), toExpress(validated), (req, res) => {
  const decision: Decision | undefined = req.rateLimit;
  const id: string | undefined = req.requestId;
  res.json({ remaining: decision?.remaining, id });
});
const chaotic = compose(faults({ rate: 0.1, enabled: () => flags.isEnabled('new-checkout') }), timeout(1_000));
const breakerConfigs = fc.sample(circuitBreakerOptions(), 3).map((o) => circuitBreaker(o));
const limiterConfigs = fc.sample(rateLimiterOptions(), 3).map((o) => rateLimiter(o));
type Fault = (proxy: FaultProxy) => void;
const freeze: Fault = (proxy) => proxy.freeze();
const pendingCalls = (results: ScheduleResult[]) => results.filter((r) => r.status === 'pending').length;
export { app, getUser, stats, classify, color, detail, deprecations, seq, auditStats, criticalEvents, verifyAudit };
export { chaotic, breakerConfigs, limiterConfigs, freeze, pendingCalls };
