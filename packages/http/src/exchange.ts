import type { IncomingMessage } from 'node:http';
import { BulwarkConfigError } from '@bulwark/core';
import type { Guard, ResponseHeaders, ResponseTransform } from './contract.js';
import { headerValue } from './response.js';

/** True when the guard declared it reads the parsed body. */
export function needsBody(guard: Guard): boolean {
  return guard.needs?.includes('body') === true;
}

/** True when the request carries a body (a length above 0, or a chunked one). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

const PARSED_TYPES = /^(?:application\/(?:[\w.+-]+\+)?json|application\/x-www-form-urlencoded)\s*(?:;|$)/i;

/**
 * True when a request carries a body that the usual parsers (JSON, URL-encoded) read: left unparsed, it means none
 * ran. A body of another type is left unparsed by them on purpose, and the guard sees no body.
 */
export function bodyLeftUnparsed(req: IncomingMessage): boolean {
  return hasRequestBody(req) && PARSED_TYPES.test(req.headers['content-type'] ?? '');
}

/**
 * The error for a guard that needs the parsed body where no parser ran before it. Express and Koa middleware cannot
 * see the app they are mounted on, so this is found at the first request that carries a body, not at startup.
 */
export function noBodyParser(where: string, parsers: string): BulwarkConfigError {
  return new BulwarkConfigError(where, [
    {
      field: 'needs',
      message: `this guard reads the request body, but no body parser ran before it: mount ${parsers} first`,
    },
  ]);
}

/** Runs a response's transforms in the order they were added (the order their guards were mounted). */
export function transformBody(
  transforms: readonly ResponseTransform[],
  body: unknown,
  status: number,
  headers: ResponseHeaders,
): unknown {
  let out = body;
  for (const transform of transforms) out = transform(out, status, headers);
  return out;
}

/** Headers of a Node `ServerResponse` (Express's `res`, Fastify's `reply.raw`) as a transform sees them. */
export function nodeResponseHeaders(res: {
  getHeader(name: string): string | number | string[] | undefined;
  setHeader(name: string, value: string | string[]): unknown;
}): ResponseHeaders {
  return {
    get: (name) => res.getHeader(name),
    set: (name, value) => void res.setHeader(name, headerValue(value)),
  };
}

/** A body a transform applies to: a plain object or array (not text, a buffer, a stream, or nothing). */
export function isJsonBody(body: unknown): body is object {
  return (
    typeof body === 'object' &&
    body !== null &&
    !Buffer.isBuffer(body) &&
    !ArrayBuffer.isView(body) &&
    typeof (body as { pipe?: unknown }).pipe !== 'function'
  );
}
