import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Endpoint, Reply } from './contract.js';
import { endpointMatcher } from './endpoints.js';
import { PlainRequestView, isThenable } from './request-view.js';
import { writeReply } from './response.js';

const NO_STORE = Object.freeze({ 'cache-control': 'no-store' });
const NOT_FOUND: Reply = Object.freeze({ status: 404, headers: NO_STORE, body: 'not found' });
const FAILED: Reply = Object.freeze({ status: 500, headers: NO_STORE, body: 'internal server error' });

/**
 * Serves neutral {@link Endpoint}s from a plain `node:http` server, with no framework: GET and HEAD to their paths
 * are answered, anything else gets 404; a handler that throws or rejects gets 500 (the error goes to `onError`).
 * For a probe or metrics port of its own, apart from the application's server.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(toNodeEndpoints([{ path: '/version', handler: () => ({ status: 200, body: { version } }) }])).listen(9000);
 * ```
 */
export function toNodeEndpoints(
  endpoints: readonly Endpoint[],
  onError: (error: unknown) => void = () => {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const match = endpointMatcher(endpoints);
  const fail = (res: ServerResponse, error: unknown) => {
    onError(error);
    if (!res.headersSent) writeReply(res, FAILED);
    else res.destroy();
  };
  return (req, res) => {
    const view = new PlainRequestView(req, req);
    const handler = req.method === 'GET' || req.method === 'HEAD' ? match(view.path) : undefined;
    if (handler === undefined) {
      writeReply(res, NOT_FOUND);
      return;
    }
    let reply: Reply | Promise<Reply>;
    try {
      reply = handler(view);
    } catch (error) {
      fail(res, error);
      return;
    }
    if (isThenable(reply)) reply.then((r) => writeReply(res, r)).catch((error: unknown) => fail(res, error));
    else writeReply(res, reply);
  };
}
