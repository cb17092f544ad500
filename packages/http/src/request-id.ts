import { randomUUID } from 'node:crypto';
import { functionSchema, parseOptions } from '@bulwark/core/internal';
import { z } from 'zod';
import type { Guard, NextOutcome } from './contract.js';

/** Options for the request-id guard and its `requestId()` adapters. */
export interface RequestIdOptions {
  /** Header read from the request and written to the response. Default `'x-request-id'`. */
  header?: string;
  /** Keep a well-formed incoming id (default `true`). Set `false` at a trust boundary to always make a new one. */
  trustIncoming?: boolean;
  /** Longest incoming id kept (default 128). Longer ones are replaced, never truncated. */
  maxLength?: number;
  /** Makes a new id. Default `crypto.randomUUID`. */
  generate?: () => string;
  /**
   * Request property holding the id: `req.requestId` on Express (and `res.locals`), `request.requestId` on Fastify,
   * `ctx.state.requestId` on Koa. Default `'requestId'`.
   */
  requestPropertyName?: string;
}

const optionsSchema = z
  .object({
    header: z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { message: 'must be a valid HTTP header name' })
      .default('x-request-id'),
    trustIncoming: z.boolean().default(true),
    maxLength: z.number().int().min(1).max(1024).default(128),
    generate: functionSchema<() => string>().default(() => randomUUID),
    requestPropertyName: z.string().min(1).default('requestId'),
  })
  .strict();

/**
 * True when every character is one that ids in the wild use (UUIDs, ULIDs, base64, W3C trace ids) and none that
 * could break a log line or a header: letters, digits and `- _ . : / + = @`.
 */
function isSafeId(id: string, maxLength: number): boolean {
  if (id.length === 0 || id.length > maxLength) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 58) || // 0-9 :
      (c >= 64 && c <= 90) || // @ A-Z
      (c >= 97 && c <= 122) || // a-z
      c === 45 ||
      c === 95 ||
      c === 46 ||
      c === 47 ||
      c === 43 ||
      c === 61; // - _ . / + =
    if (!ok) return false;
  }
  return true;
}

/**
 * The neutral request-id guard: keeps a well-formed incoming id or makes one, hands it to handlers as state and
 * echoes it on the response. Mount it with `requestId()` from `@bulwark/http/express`, `/fastify` or `/koa`.
 *
 * @throws {@link @bulwark/core!BulwarkConfigError} for bad options.
 *
 * @example
 * ```ts
 * import { requestIdGuard } from '@bulwark/http';
 * import { toExpress } from '@bulwark/http/express';
 * app.use(toExpress(requestIdGuard({ header: 'x-correlation-id', trustIncoming: false })));
 * ```
 */
export function requestIdGuard(options: RequestIdOptions = {}): Guard {
  const o = parseOptions(optionsSchema, options, 'requestId()');
  const header = o.header.toLowerCase();
  const { maxLength, trustIncoming, generate, requestPropertyName: property } = o;
  const guard = (req: Parameters<Guard>[0]): NextOutcome => {
    const incoming = trustIncoming ? req.header(header) : undefined;
    const id = incoming !== undefined && isSafeId(incoming, maxLength) ? incoming : generate();
    return { kind: 'next', headers: { [header]: id }, state: { [property]: id } };
  };
  return Object.assign(guard, { stateKeys: [property] as const });
}
