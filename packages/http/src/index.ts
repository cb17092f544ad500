// ---- The neutral contract ----
export {
  NEXT,
  type Endpoint,
  type Guard,
  type GuardNeed,
  type QueryValues,
  type ResponseHeaders,
  type ResponseTransform,
  type UrlRewrite,
  type Handler,
  type NextOutcome,
  type Outcome,
  type OutcomeHeaders,
  type Reply,
  type RequestView,
  type RespondOutcome,
} from './contract.js';

export { withSkip } from './with-skip.js';
export { problemReply, problemTypes, retryAfterSeconds, type ProblemDetails } from './problem.js';
export { publishRefusal, refusalChannel, type RefusalEvent } from './refusal.js';

// ---- Endpoints ----
export { authorizeEndpoints } from './endpoints.js';
export { toNodeEndpoints } from './node.js';

// ---- Client address ----
export { clientIp, clientIpResolver, type ClientIpOptions, type ClientIpSource, type TrustProxy } from './client-ip.js';
export {
  cidrContains,
  formatIp,
  ipKey,
  normalizeIp,
  parseCidr,
  parseIp,
  type Cidr,
  type IpKeyOptions,
  type ParsedIp,
} from './ip.js';

// ---- Request id ----
export { requestIdGuard, type RequestIdOptions } from './request-id.js';
