import { NEXT, type Guard, type RequestView } from './contract.js';

/**
 * A guard that lets requests for which `skip(req)` is true pass untouched (health checks, allow-lists, internal
 * callers), and runs `guard` for the rest. Every Bulwark guard that can refuse a request takes a `skip` option and
 * applies it through this, so it means the same everywhere. With no `skip`, returns `guard` itself.
 *
 * @example
 * ```ts
 * const guard = withSkip(loadSheddingGuard({ limiter }), (req) => req.path.startsWith('/internal/'));
 * app.use(toExpress(guard));
 * ```
 */
export function withSkip(guard: Guard, skip: ((req: RequestView) => boolean) | undefined): Guard {
  if (skip === undefined) return guard;
  const skipping: Guard = (req) => (skip(req) ? NEXT : guard(req));
  // The guard's declarations (state keys, needs) go with it.
  return Object.assign(skipping, { stateKeys: guard.stateKeys, needs: guard.needs });
}
