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
app.use(toExpressRewrite((req) => (req.path.startsWith('/v2/') ? req.url.slice(3) : undefined)));
app.use(rateLimit({ limiter: rateLimiter({ limit: 10, windowMs: '1 minute' }), headers: 'draft-8', statusCode: 429 }));
app.post('/users', express.json(), toExpress(validated), (req, res) => {
  const decision: Decision | undefined = req.rateLimit;
  const id: string | undefined = req.requestId;
  res.json({ remaining: decision?.remaining, id });
});
export { app, getUser, stats, classify };
