import type { ServerResponse } from 'node:http';
import { runAfter } from './response.js';

const signals = new WeakMap<ServerResponse, AbortSignal>();

/**
 * An `AbortSignal` that aborts when the client goes away before its response is fully sent (the same test as an
 * `after` callback's `aborted`), for handing to outbound calls: `policy.execute(fn, signal)`, `fetch(url, { signal })`.
 * Made on first read and shared by later reads of the same response; a request nobody asks about costs nothing.
 * The adapters export it per framework as `requestSignal(req)`.
 *
 * @example
 * ```ts
 * const signal = responseSignal(res); // Express `res`, Fastify `reply.raw`, Koa `ctx.res`
 * await policy.execute(({ signal }) => fetch(url, { signal }), signal);
 * ```
 */
export function responseSignal(res: ServerResponse): AbortSignal {
  let signal = signals.get(res);
  if (signal !== undefined) return signal;
  const controller = new AbortController();
  signal = controller.signal;
  signals.set(res, signal);
  runAfter(res, (_status, aborted) => {
    if (aborted) controller.abort(new DOMException('The client went away before the response was sent', 'AbortError'));
  });
  return signal;
}
