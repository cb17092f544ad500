import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the upstream answers one request. */
export interface UpstreamAnswer {
  /** Status (default 200). */
  readonly status?: number;
  /** Wait before answering, in ms (real time: this is a real server). */
  readonly delayMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Body (default `{"n": <request number>}` as JSON for 2xx, the status text otherwise). */
  readonly body?: string;
  /** Destroy the connection with a TCP reset instead of answering. */
  readonly reset?: boolean;
  /** Never answer (until the client gives up). */
  readonly hang?: boolean;
}

/** Shorthands: `ok` 200, `slow` 200 after 400 ms, `busy` 503 with `Retry-After: 1`, `error` 500, `reset`, `hang`. */
export type UpstreamStep = UpstreamAnswer | 'ok' | 'slow' | 'busy' | 'error' | 'reset' | 'hang';

/** A running {@link flakyUpstream}. */
export interface FlakyUpstream {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** Requests received so far. */
  served(): number;
  /** Method and URL of every request received, in order. */
  readonly requests: readonly { method: string; url: string }[];
  /** Stops the server, ending open connections. */
  close(): Promise<void>;
}

const shorthand: Record<Exclude<UpstreamStep, UpstreamAnswer>, UpstreamAnswer> = {
  ok: {},
  slow: { delayMs: 400 },
  busy: { status: 503, headers: { 'retry-after': '1' }, body: 'busy' },
  error: { status: 500, body: 'boom' },
  reset: { reset: true },
  hang: { hang: true },
};

/**
 * A real HTTP server that answers from a script, one step per request (status, latency, reset, hang); past the
 * script's end it answers `fallback` (default `ok`). For tests of a client under retry, breaker and timeout.
 *
 * @example
 * ```ts
 * const upstream = await flakyUpstream(['error', 'busy', 'slow', 'ok']);
 * const res = await policy.execute(({ signal }) => fetch(upstream.url, { signal }));
 * await upstream.close();
 * ```
 */
export async function flakyUpstream(
  script: readonly UpstreamStep[],
  options: { fallback?: UpstreamStep } = {},
): Promise<FlakyUpstream> {
  let n = 0;
  const requests: { method: string; url: string }[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/' });
    const step = script[n++] ?? options.fallback ?? 'ok';
    const answer = typeof step === 'string' ? shorthand[step] : step;
    if (answer.hang) return;
    if (answer.reset) {
      req.socket.resetAndDestroy();
      return;
    }
    const status = answer.status ?? 200;
    const send = () => {
      const body = answer.body ?? (status < 300 ? JSON.stringify({ n }) : String(status));
      res.writeHead(status, {
        'content-type': status < 300 && answer.body === undefined ? 'application/json' : 'text/plain',
        ...answer.headers,
      });
      res.end(body);
    };
    if (answer.delayMs === undefined || answer.delayMs <= 0) send();
    else {
      const timer = setTimeout(send, answer.delayMs);
      res.on('close', () => clearTimeout(timer)); // the client gave up: stop working
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    served: () => n,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
