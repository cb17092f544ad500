import { z } from 'zod';
import { functionSchema, parseOptions } from '@bulwark/core/internal';
import type { FlagSource } from './flag-source.js';

const optionsSchema = z
  .object({
    /** How often to poll. */
    intervalMs: z.number().int().positive().default(30_000),
    /** Longest wait between polls while the server keeps failing (the wait doubles from `intervalMs`). */
    maxBackoffMs: z.number().int().positive().default(300_000),
    /** Give up on one request after this long. */
    timeoutMs: z.number().int().positive().default(10_000),
    /** Request headers, e.g. `authorization`. */
    headers: z.record(z.string(), z.string()).default({}),
    /** Turns the response body (parsed JSON) into a flag document, e.g. `(b) => fromUnleash(b).document`. */
    map: functionSchema<(body: unknown) => unknown>().optional(),
    /** The `fetch` to use (the global one unless set). */
    fetch: functionSchema<typeof fetch>().optional(),
  })
  .strict();

/** Options of {@link httpSource}. */
export type HttpSourceOptions = z.input<typeof optionsSchema>;

/**
 * A flag document served over HTTP, polled with `If-None-Match` (an unchanged document costs a 304 and no
 * reparse). Failures back off exponentially to `maxBackoffMs`, keeping the last good document in force.
 * Read-only: `flags.set()` rejects.
 *
 * @example
 * ```ts
 * import { fromUnleash } from '@bulwark/feature-flags/unleash';
 * const source = httpSource('https://unleash.example/api/client/features', {
 *   headers: { authorization: process.env.UNLEASH_TOKEN! },
 *   map: (body) => fromUnleash(body as never).document,
 * });
 * ```
 */
export function httpSource(url: string | URL, options?: HttpSourceOptions): FlagSource {
  const opts = parseOptions(optionsSchema, options ?? {}, 'httpSource()');
  const doFetch = opts.fetch ?? fetch;
  let etag: string | undefined;
  let last: unknown;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  /** The document, or `undefined` when unchanged since the last one (304). */
  const poll = async (): Promise<unknown> => {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (etag !== undefined && last !== undefined) headers['if-none-match'] = etag;
    const response = await doFetch(url, { headers, signal: AbortSignal.timeout(opts.timeoutMs) });
    if (response.status === 304) return undefined;
    if (!response.ok) throw new Error(`${String(url)}: HTTP ${response.status}`);
    const body: unknown = await response.json();
    etag = response.headers.get('etag') ?? undefined;
    last = opts.map ? opts.map(body) : body;
    return last;
  };

  return {
    async load() {
      const document = await poll();
      return document === undefined ? last : document;
    },
    watch(onUpdate, onError) {
      stopped = false;
      let delay = opts.intervalMs;
      const schedule = () => {
        if (stopped) return;
        timer = setTimeout(() => {
          poll().then(
            (document) => {
              delay = opts.intervalMs;
              if (document !== undefined) onUpdate(document);
              schedule();
            },
            (error: Error) => {
              delay = Math.min(delay * 2, opts.maxBackoffMs);
              onError(error);
              schedule();
            },
          );
        }, delay);
        timer.unref();
      };
      schedule();
      return () => {
        stopped = true;
        clearTimeout(timer);
      };
    },
    close() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
