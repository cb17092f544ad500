import { isBrokenCircuitError } from '@bulwark/circuit-breaker';
import { isRetryBudgetExhaustedError } from '@bulwark/retry';
import { createClient } from './client.js';
import { startFlakyServer, type Behaviour } from './flaky-server.js';

/** What the upstream does, request by request: a blip, a slow answer, pushback, an outage, then recovery. */
export const script: Behaviour[] = [
  'ok',
  'error',
  'ok',
  'slow',
  'ok',
  'busy',
  'ok',
  'error',
  'error',
  'error',
  'error',
  'error',
  'error',
];

/** Makes `calls` sequential calls (plus a pause for the circuit to half-open) and returns the log. */
export async function runScenario(calls = 8, log: (line: string) => void = console.log): Promise<string[]> {
  const lines: string[] = [];
  const out = (line: string) => {
    lines.push(line);
    log(line);
  };
  const upstream = await startFlakyServer(script);
  const client = createClient(upstream.url, out);
  try {
    for (let i = 1; i <= calls; i++) {
      if (i === calls) {
        out('-- waiting for the circuit to allow a trial call');
        await new Promise((r) => setTimeout(r, Math.max(0, client.breaker.retryAfterMs) + 20));
      }
      out(`call ${i}`);
      try {
        const body = await client.get();
        out(`  result    ok (upstream request #${body.n})`);
      } catch (e) {
        const what = isBrokenCircuitError(e)
          ? `refused: circuit ${e.state}`
          : isRetryBudgetExhaustedError(e)
            ? 'failed: retry budget exhausted'
            : `failed: ${(e as Error).message}`;
        out(`  result    ${what}`);
      }
    }
    out(`upstream served ${upstream.served()} requests for ${calls} calls; circuit ${client.breaker.state}`);
  } finally {
    upstream.server.closeAllConnections();
    upstream.server.close();
  }
  return lines;
}
