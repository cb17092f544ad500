import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the upstream answers one request. */
export type Behaviour = 'ok' | 'slow' | 'busy' | 'error';

/**
 * A local upstream that answers from a script: 'ok' (200 at once), 'slow' (200 after `slowMs`), 'busy' (503 with
 * `Retry-After: 1`), 'error' (500). The script advances per request; past its end, every answer is 'ok'.
 */
export async function startFlakyServer(
  script: Behaviour[],
  slowMs = 400,
): Promise<{ url: string; server: Server; served: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    const behaviour = script[n++] ?? 'ok';
    if (behaviour === 'busy') {
      res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' }).end('busy');
    } else if (behaviour === 'error') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
    } else {
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ n }));
      if (behaviour === 'slow') {
        const timer = setTimeout(answer, slowMs);
        req.on('close', () => clearTimeout(timer)); // the client gave up: stop working
      } else answer();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, server, served: () => n };
}
